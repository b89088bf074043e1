/**
 * A small RFC 5322/2045 reader for the exported .eml blobs: headers (unfolded, RFC 2047 encoded
 * words decoded), the part tree of multipart bodies, transfer decoding (base64, quoted-printable),
 * file names from Content-Disposition/Content-Type (RFC 2231 and encoded words). Import uses it to
 * re-attach a message's attachments; verification uses it to digest them.
 */
import { createHash } from 'node:crypto';

export interface MimeHeader {
  name: string;
  value: string;
}

export interface MimePart {
  headers: MimeHeader[];
  contentType: string;
  params: Record<string, string>;
  disposition: string | null;
  dispositionParams: Record<string, string>;
  body: Buffer;
  parts: MimePart[];
}

export interface MimeAttachment {
  name: string;
  contentType: string;
  isInline: boolean;
  contentId: string | null;
  content: Buffer;
}

function decoderFor(charset: string): InstanceType<typeof TextDecoder> {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8');
  } catch {
    return new TextDecoder('utf-8');
  }
}

/** Decode RFC 2047 encoded words (=?charset?B|Q?...?=), joining adjacent words. */
export function decodeWords(text: string): string {
  return text
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, charset: string, enc: string, data: string) => {
      const cs = charset.split('*')[0] as string;
      let bytes: Buffer;
      if (enc.toUpperCase() === 'B') bytes = Buffer.from(data, 'base64');
      else bytes = Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return decoderFor(cs).decode(bytes);
    });
}

function parseHeaders(block: string): MimeHeader[] {
  const out: MimeHeader[] = [];
  for (const line of block.split(/\r?\n(?![ \t])/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).replace(/\r?\n[ \t]+/g, ' ').trim() });
  }
  return out;
}

/** Split "type/sub; a=b; c*=utf-8''x" into the value and decoded parameters (RFC 2231 continuations too). */
export function parseParams(value: string): { value: string; params: Record<string, string> } {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (ch === ';' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const main = (parts.shift() ?? '').trim().toLowerCase();
  const raw: Record<string, string> = {};
  const extended: Record<string, Array<{ n: number; v: string; enc: boolean }>> = {};
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    const m = /^([^*]+)\*(?:(\d+)\*?)?$/.exec(key);
    if (m && key.includes('*')) {
      const name = m[1] as string;
      (extended[name] ??= []).push({ n: m[2] !== undefined ? Number(m[2]) : 0, v, enc: key.endsWith('*') });
    } else raw[key] = decodeWords(v);
  }
  for (const [name, pieces] of Object.entries(extended)) {
    pieces.sort((a, b) => a.n - b.n);
    let charset = 'utf-8';
    const bytes: number[] = [];
    pieces.forEach((piece, idx) => {
      let v = piece.v;
      if (idx === 0 && piece.enc) {
        const m = /^([^']*)'[^']*'(.*)$/.exec(v);
        if (m) {
          charset = m[1] || 'utf-8';
          v = m[2] as string;
        }
      }
      if (piece.enc) {
        for (let i = 0; i < v.length; i++) {
          if (v[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(v.slice(i + 1, i + 3))) {
            bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
            i += 2;
          } else bytes.push(...Buffer.from(v[i] as string, 'utf8'));
        }
      } else bytes.push(...Buffer.from(v, 'utf8'));
    });
    raw[name] = decoderFor(charset).decode(Buffer.from(bytes));
  }
  return { value: main, params: raw };
}

function header(headers: MimeHeader[], name: string): string | null {
  const l = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === l)?.value ?? null;
}

function decodeQuotedPrintable(buf: Buffer): Buffer {
  const s = buf.toString('latin1').replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 61 && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(ch & 0xff);
  }
  return Buffer.from(out);
}

function decodeBody(body: Buffer, encoding: string | null): Buffer {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'base64':
      // Node's decoder skips line breaks and other characters outside the alphabet.
      return Buffer.from(body.toString('latin1'), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

function splitHeaderBody(buf: Buffer): { head: string; body: Buffer } {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  let at = -1;
  let len = 0;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) {
    at = crlf;
    len = 4;
  } else if (lf >= 0) {
    at = lf;
    len = 2;
  }
  if (at < 0) return { head: buf.toString('latin1'), body: Buffer.alloc(0) };
  return { head: buf.subarray(0, at).toString('latin1'), body: buf.subarray(at + len) };
}

/** The parts of a multipart body between `--boundary` lines (Buffer searches: bodies can be large). */
function splitParts(body: Buffer, boundary: string): Buffer[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const pieces: Buffer[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0 && (pos === 0 || body[pos - 1] === 0x0a)) {
    const after = pos + delim.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) break;
    const nl = body.indexOf(0x0a, after);
    if (nl < 0) break;
    const start = nl + 1;
    let next = start;
    for (;;) {
      next = body.indexOf(delim, next);
      if (next < 0 || body[next - 1] === 0x0a) break;
      next += delim.length;
    }
    const stop = next < 0 ? body.length : next;
    let end = stop;
    if (end > start && body[end - 1] === 0x0a) end--;
    if (end > start && body[end - 1] === 0x0d) end--;
    pieces.push(body.subarray(start, Math.max(start, end)));
    pos = next;
  }
  return pieces;
}

export function parseMime(buf: Buffer, depth = 0): MimePart {
  const { head, body } = splitHeaderBody(buf);
  // Header bytes are UTF-8 in practice (RFC 6532) when not encoded words.
  const headers = parseHeaders(Buffer.from(head, 'latin1').toString('utf8'));
  const ct = parseParams(header(headers, 'content-type') ?? 'text/plain; charset=us-ascii');
  const cd = header(headers, 'content-disposition');
  const disp = cd ? parseParams(cd) : null;
  const part: MimePart = { headers, contentType: ct.value, params: ct.params, disposition: disp?.value ?? null, dispositionParams: disp?.params ?? {}, body: Buffer.alloc(0), parts: [] };
  if (ct.value.startsWith('multipart/') && ct.params.boundary && depth < 20) {
    part.parts = splitParts(body, ct.params.boundary).map((p) => parseMime(p, depth + 1));
  } else {
    part.body = decodeBody(body, header(headers, 'content-transfer-encoding'));
  }
  return part;
}

export function headerValue(part: MimePart, name: string): string | null {
  const v = header(part.headers, name);
  return v === null ? null : decodeWords(v);
}

/** Attachments: leaf parts with a file name or an attachment disposition (the message's own text/html body excluded). */
export function attachments(root: MimePart): MimeAttachment[] {
  const out: MimeAttachment[] = [];
  const walk = (p: MimePart, isRoot: boolean) => {
    if (p.parts.length) {
      for (const c of p.parts) walk(c, false);
      return;
    }
    const name = p.dispositionParams.filename ?? p.params.name ?? null;
    const isAttachment = p.disposition === 'attachment' || (name !== null && !isRoot) || (!isRoot && !p.contentType.startsWith('text/') && p.disposition === 'inline');
    if (!isAttachment || isRoot) return;
    const cid = header(p.headers, 'content-id');
    out.push({
      name: name ?? (p.contentType === 'message/rfc822' ? 'message.eml' : 'attachment'),
      contentType: p.contentType,
      isInline: p.disposition === 'inline',
      contentId: cid ? cid.replace(/^<|>$/g, '') : null,
      content: p.body,
    });
  };
  walk(root, true);
  return out;
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}
