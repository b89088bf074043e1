/**
 * Upload sessions, as OneDrive and Outlook serve them: a pre-authenticated `uploadUrl` (sending an
 * Authorization header to it is refused with 401), byte ranges PUT in order with Content-Range.
 *   OneDrive: each fragment a multiple of 320 KiB except the last, under 60 MiB; 202 with
 *             nextExpectedRanges until the last fragment, then 201 (created) or 200 (replaced).
 *   Outlook attachments: fragments of at most 4 MiB; 200 with nextExpectedRanges, then 201.
 * Large content is spooled to a file in the emulator's data directory, so memory stays flat.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { GraphApiError, type ApiResponse } from './http.js';
import { QuickXorHash } from './quickxor.js';
import type { Content } from './state.js';

export const FRAGMENT_UNIT = 320 * 1024;
const MAX_DRIVE_FRAGMENT = 60 * 1024 * 1024;
const MAX_OUTLOOK_FRAGMENT = 4 * 1024 * 1024;
const SPOOL_OVER = 4 * 1024 * 1024;

export interface SessionSpec {
  kind: 'drive' | 'outlook';
  size: number;
  origin: string;
  /** Called with the whole content once the last byte arrived; its response ends the session. */
  complete: (content: Buffer, spooled: Content, quickXorHash: string) => Promise<ApiResponse>;
}

interface Session extends SessionSpec {
  id: string;
  received: number;
  expires: string;
  hash: QuickXorHash;
  parts: Buffer[];
  file: string | null;
  out: WriteStream | null;
  busy: boolean;
}

export class UploadSessions {
  private sessions = new Map<string, Session>();
  completed = 0;

  constructor(
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  open(spec: SessionSpec): { url: string; expires: string } {
    const id = randomBytes(18).toString('base64url');
    const expires = new Date(this.now() + 15 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const file = spec.kind === 'drive' && spec.size > SPOOL_OVER ? join(this.dataDir, `upload-${id}`) : null;
    this.sessions.set(id, { ...spec, id, received: 0, expires, hash: new QuickXorHash(), parts: [], file, out: file ? createWriteStream(file) : null, busy: false });
    return { url: `${spec.origin}/_upload/${spec.kind}/${id}`, expires };
  }

  status(id: string): ApiResponse {
    const s = this.sessions.get(id);
    if (!s) throw new GraphApiError(404, 'itemNotFound', 'The upload session was not found or has expired.');
    return { status: 200, body: { expirationDateTime: s.expires, nextExpectedRanges: [`${s.received}-`] } };
  }

  async cancel(id: string): Promise<ApiResponse> {
    const s = this.sessions.get(id);
    if (!s) throw new GraphApiError(404, 'itemNotFound', 'The upload session was not found or has expired.');
    this.sessions.delete(id);
    s.out?.destroy();
    if (s.file) await rm(s.file, { force: true });
    return { status: 204 };
  }

  /** One PUT of a byte range. The body is read here (streamed to the spool file for large uploads). */
  async put(id: string, req: IncomingMessage): Promise<ApiResponse> {
    const s = this.sessions.get(id);
    if (!s) throw new GraphApiError(404, 'itemNotFound', 'The upload session was not found or has expired.');
    if (req.headers.authorization) throw new GraphApiError(401, 'unauthenticated', 'The upload URL is pre-authenticated: do not send an Authorization header to it.');
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(req.headers['content-range'] ?? ''));
    if (!range) throw new GraphApiError(400, 'invalidRequest', 'Content-Range is required, as "bytes START-END/TOTAL".');
    const start = Number(range[1]);
    const end = Number(range[2]);
    const total = range[3] === '*' ? s.size : Number(range[3]);
    const length = end - start + 1;
    // OneDrive takes the file size from the first fragment's Content-Range when the session did not declare it.
    if (s.size < 0 && s.received === 0 && total > 0) {
      s.size = total;
      if (s.kind === 'drive' && total > SPOOL_OVER && !s.out) {
        s.file = join(this.dataDir, `upload-${s.id}`);
        s.out = createWriteStream(s.file);
      }
    }
    if (total !== s.size) throw new GraphApiError(400, 'invalidRange', `Content-Range total ${total} differs from the size ${s.size} the session was created with.`);
    if (Number(req.headers['content-length'] ?? length) !== length) throw new GraphApiError(400, 'invalidRange', 'Content-Length does not match Content-Range.');
    if (s.busy) throw new GraphApiError(409, 'uploadSessionIncomplete', 'Another fragment of this session is being uploaded.');
    if (start !== s.received || end >= s.size || length <= 0) {
      throw new GraphApiError(416, 'invalidRange', `The uploaded fragment ${start}-${end} is not the next expected range ${s.received}-.`);
    }
    const last = end === s.size - 1;
    if (s.kind === 'drive') {
      if (length > MAX_DRIVE_FRAGMENT) throw new GraphApiError(413, 'invalidRange', 'Fragments must be smaller than 60 MiB.');
      if (!last && length % FRAGMENT_UNIT !== 0) throw new GraphApiError(400, 'invalidRange', `Fragments must be a multiple of 320 KiB (327,680 bytes), got ${length}.`);
    } else if (length > MAX_OUTLOOK_FRAGMENT) {
      throw new GraphApiError(413, 'ErrorAttachmentSizeLimitExceeded', 'Attachment upload fragments must be at most 4 MiB.');
    }
    s.busy = true;
    try {
      // A fragment is taken whole or not at all: a connection that ends early leaves the session
      // where it was, and the client re-sends the fragment (nextExpectedRanges tells it where).
      const chunks: Buffer[] = [];
      let got = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        got += chunk.length;
        if (got > length) throw new GraphApiError(400, 'invalidRange', 'The body is longer than Content-Range says.');
        chunks.push(chunk);
      }
      if (got !== length) throw new GraphApiError(400, 'invalidRange', 'The fragment ended before Content-Length bytes arrived.');
      const fragment = Buffer.concat(chunks);
      s.hash.update(fragment);
      if (s.out) {
        const out = s.out;
        await new Promise<void>((resolve, reject) => out.write(fragment, (err) => (err ? reject(err) : resolve())));
      } else s.parts.push(fragment);
      s.received += length;
    } finally {
      s.busy = false;
    }
    if (!last) {
      return { status: s.kind === 'drive' ? 202 : 200, body: { expirationDateTime: s.expires, nextExpectedRanges: [`${s.received}-`] } };
    }
    this.sessions.delete(id);
    let spooled: Content;
    let buf: Buffer;
    if (s.out && s.file) {
      const out = s.out;
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      spooled = { file: s.file, size: s.size };
      buf = s.kind === 'outlook' ? await readFile(s.file) : Buffer.alloc(0);
    } else {
      buf = Buffer.concat(s.parts);
      spooled = { buf };
    }
    this.completed++;
    return s.complete(buf, spooled, s.hash.digestBase64());
  }
}
