import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback HTTP proxy in front of an S3 server (or any HTTP server) that can inject faults:
 * answer a matching request with an S3 error, cut the connection after N request-body bytes, or cut
 * the response after N bytes. Requests are forwarded byte for byte with their original Host header,
 * so SigV4 signatures stay valid. Every request is logged in `requests`.
 *
 * `enforceIfNoneMatch` makes the proxy enforce `If-None-Match: *` (on PutObject and
 * CompleteMultipartUpload) in front of a server that ignores it, serialized per key so that it is
 * atomic for all clients of this proxy: a stand-in for an S3 server with conditional writes.
 */
export interface ProxiedRequest {
  method: string;
  /** Path and query as sent, e.g. '/bucket/key?partNumber=2&uploadId=...'. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Set when a rule acted on the request. */
  fault?: string;
}

export type FaultAction =
  /** Answer with an S3 XML error document (the request body is read first). */
  | { kind: 'status'; status: number; code: string; message?: string }
  /** Destroy the client connection once this many request-body bytes arrived (0 = at once). */
  | { kind: 'reset'; afterBodyBytes?: number }
  /** Forward, then destroy the client connection after this many response-body bytes. */
  | { kind: 'cut-response'; afterBytes: number };

export interface FaultRule {
  match(req: ProxiedRequest): boolean;
  action: FaultAction;
  /** How many matching requests the rule acts on; default unlimited. */
  times?: number;
}

export interface FaultProxy {
  endpoint: string;
  requests: ProxiedRequest[];
  addRule(rule: FaultRule): void;
  clearRules(): void;
  stop(): Promise<void>;
}

/** Matchers for S3 requests (path-style URLs). */
export const s3Match = {
  uploadPart(minPart = 1): (r: ProxiedRequest) => boolean {
    return (r) => {
      if (r.method !== 'PUT') return false;
      const part = new URL(r.url, 'http://x').searchParams.get('partNumber');
      return part !== null && Number(part) >= minPart;
    };
  },
  completeMultipart(): (r: ProxiedRequest) => boolean {
    return (r) => r.method === 'POST' && new URL(r.url, 'http://x').searchParams.has('uploadId');
  },
  abortMultipart(): (r: ProxiedRequest) => boolean {
    return (r) => r.method === 'DELETE' && new URL(r.url, 'http://x').searchParams.has('uploadId');
  },
  getObject(): (r: ProxiedRequest) => boolean {
    return (r) => r.method === 'GET' && new URL(r.url, 'http://x').searchParams.get('x-id') === 'GetObject';
  },
  putObject(): (r: ProxiedRequest) => boolean {
    return (r) => r.method === 'PUT' && new URL(r.url, 'http://x').searchParams.get('x-id') === 'PutObject';
  },
};

function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>faultproxy</RequestId></Error>`;
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.resume();
  });
}

export async function startFaultProxy(upstream: string, opts: { enforceIfNoneMatch?: boolean } = {}): Promise<FaultProxy> {
  const up = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const rules: Array<FaultRule & { used: number }> = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const keyLocks = new Map<string, Promise<void>>();

  const upstreamRequest = (method: string, url: string, headers: IncomingHttpHeaders): http.ClientRequest =>
    http.request({ host: up.hostname, port: up.port, method, path: url, headers, agent });

  /** Does the object exist upstream? An anonymous HEAD (s3rver answers those; the proxy holds no credentials). */
  const exists = (objectPath: string): Promise<boolean> =>
    new Promise((resolve, reject) => {
      const r = http.request({ host: up.hostname, port: up.port, method: 'HEAD', path: objectPath, agent }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      r.on('error', reject);
      r.end();
    });

  const forward = (req: IncomingMessage, res: ServerResponse, entry: ProxiedRequest, cutAfter: number | null): void => {
    const out = upstreamRequest(req.method ?? 'GET', req.url ?? '/', req.headers);
    out.on('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (cutAfter === null) {
        upRes.pipe(res);
        return;
      }
      let sent = 0;
      upRes.on('data', (chunk: Buffer) => {
        if (sent + chunk.length >= cutAfter) {
          const head = chunk.subarray(0, Math.max(0, cutAfter - sent));
          sent = cutAfter;
          res.write(head, () => {
            res.socket?.destroy();
            upRes.destroy();
          });
          return;
        }
        sent += chunk.length;
        res.write(chunk);
      });
      upRes.on('end', () => res.end());
    });
    out.on('error', (err) => {
      entry.fault ??= `upstream error: ${err.message}`;
      res.socket?.destroy();
    });
    req.pipe(out);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const entry: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    requests.push(entry);
    const rule = rules.find((r) => r.used < (r.times ?? Infinity) && r.match(entry));
    if (rule !== undefined) {
      rule.used += 1;
      const action = rule.action;
      entry.fault = action.kind;
      if (action.kind === 'status') {
        await drain(req);
        const body = s3ErrorXml(action.code, action.message ?? 'injected by faultproxy');
        res.writeHead(action.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      if (action.kind === 'reset') {
        const limit = action.afterBodyBytes ?? 0;
        if (limit === 0) {
          req.socket.destroy();
          return;
        }
        let seen = 0;
        req.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen >= limit) req.socket.destroy();
        });
        req.on('end', () => req.socket.destroy());
        return;
      }
      forward(req, res, entry, action.afterBytes);
      return;
    }
    const ifNoneMatch = req.headers['if-none-match'];
    const isConditional =
      opts.enforceIfNoneMatch === true &&
      ifNoneMatch === '*' &&
      (s3Match.putObject()(entry) || s3Match.completeMultipart()(entry));
    if (!isConditional) {
      forward(req, res, entry, null);
      return;
    }
    // serialize conditional writes per object path, check existence, then forward
    const objectPath = new URL(entry.url, 'http://x').pathname;
    const previous = keyLocks.get(objectPath) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = previous.then(() => mine);
    keyLocks.set(objectPath, chained);
    await previous;
    try {
      if (await exists(objectPath)) {
        entry.fault = 'if-none-match';
        await drain(req);
        const body = s3ErrorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        res.writeHead(412, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      await new Promise<void>((resolve) => {
        res.on('close', resolve);
        forward(req, res, entry, null);
      });
    } finally {
      release();
      if (keyLocks.get(objectPath) === chained) keyLocks.delete(objectPath);
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.socket?.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | null = null;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    addRule(rule: FaultRule): void {
      rules.push({ ...rule, used: 0 });
    },
    clearRules(): void {
      rules.length = 0;
    },
    stop(): Promise<void> {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        agent.destroy();
      });
      return stopped;
    },
  };
}
