/**
 * Just enough MIME for a mail server: header parsing (folded lines, RFC 2047 encoded words),
 * multipart structure with decoded bodies (Gmail's format=full/metadata), and a builder of
 * real-looking messages for seeding (multipart/alternative, attachments, non-ASCII headers).
 */

export interface Header {
  name: string;
  value: string;
}

export interface MimePart {
  partId: string;
  mimeType: string;
  filename: string;
  headers: Header[];
  /** Decoded body (transfer encoding undone); empty for multipart containers. */
  body: Buffer;
  parts: MimePart[];
}

/** Index of the blank line ending the header block, and where the body starts. */
export function splitHeaderBody(raw: Buffer): { header: string; bodyStart: number } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { header: raw.subarray(0, crlf).toString('latin1'), bodyStart: crlf + 4 };
  if (lf >= 0) return { header: raw.subarray(0, lf).toString('latin1'), bodyStart: lf + 2 };
  return { header: raw.toString('latin1'), bodyStart: raw.length };
}

/** Header fields, unfolded, values still encoded (as bytes read as latin1). */
export function parseHeaderBlock(text: string): Header[] {
  const out: Header[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) {
      (out[out.length - 1] as Header).value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return out;
}

function decodeCharset(bytes: Buffer, charset: string): string {
  const cs = charset.toLowerCase();
  try {
    return new TextDecoder(cs === 'latin1' ? 'iso-8859-1' : cs).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Decode RFC 2047 encoded words (=?UTF-8?B?...?= / =?ISO-8859-1?Q?...?=); raw 8-bit bytes are read as UTF-8. */
export function decodeHeaderValue(value: string): string {
  const utf8 = Buffer.from(value, 'latin1').toString('utf8');
  const text = utf8.includes('\uFFFD') ? value : utf8;
  return text
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, charset: string, enc: string, data: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return decodeCharset(bytes, charset.split('*')[0] as string);
    });
}

/** RFC 2047 B-encoding of a header text when it is not plain ASCII (words of at most 75 characters). */
export function encodeHeaderValue(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

export function headerValue(headers: Header[], name: string): string | undefined {
  const n = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === n)?.value;
}

/** Parameters of a structured header value: `multipart/mixed; boundary="x"` -> { '': 'multipart/mixed', boundary: 'x' }. */
export function headerParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const parts = value.split(';');
  out[''] = (parts.shift() ?? '').trim().toLowerCase();
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    if (key.endsWith('*')) {
      const m = /^([^']*)'[^']*'(.*)$/.exec(v);
      if (m) v = decodeCharset(Buffer.from(decodeURIComponent(m[2] as string), 'latin1'), m[1] || 'utf-8');
      out[key.slice(0, -1)] = v;
    } else out[key] = decodeHeaderValue(v);
  }
  return out;
}

function decodeTransfer(body: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') {
    const text = body.toString('latin1').replace(/=\r?\n/g, '');
    return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  }
  return body;
}

/** Parse a message (or part) into its MIME tree. Malformed input gives a best-effort single part. */
export function parseMime(raw: Buffer, partId = ''): MimePart {
  const { header, bodyStart } = splitHeaderBody(raw);
  const rawHeaders = parseHeaderBlock(header);
  const headers = rawHeaders.map((h) => ({ name: h.name, value: decodeHeaderValue(h.value) }));
  const ctype = headerParams(headerValue(rawHeaders, 'content-type') ?? 'text/plain');
  const disp = headerParams(headerValue(rawHeaders, 'content-disposition') ?? '');
  const mimeType = ctype[''] || 'text/plain';
  const filename = disp.filename ?? ctype.name ?? '';
  const bodyRaw = raw.subarray(bodyStart);
  if (mimeType.startsWith('multipart/') && ctype.boundary) {
    const parts: MimePart[] = [];
    const delim = Buffer.from(`--${ctype.boundary}`);
    let pos = bodyRaw.indexOf(delim);
    let n = 0;
    while (pos >= 0) {
      let start = pos + delim.length;
      if (bodyRaw.subarray(start, start + 2).toString() === '--') break;
      if (bodyRaw[start] === 0x0d) start++;
      if (bodyRaw[start] === 0x0a) start++;
      const next = bodyRaw.indexOf(delim, start);
      if (next < 0) break;
      let end = next;
      if (bodyRaw[end - 1] === 0x0a) end--;
      if (bodyRaw[end - 1] === 0x0d) end--;
      parts.push(parseMime(bodyRaw.subarray(start, end), partId === '' ? String(n) : `${partId}.${n}`));
      n++;
      pos = next;
    }
    return { partId, mimeType, filename, headers, body: Buffer.alloc(0), parts };
  }
  return { partId, mimeType, filename, headers, body: decodeTransfer(bodyRaw, headerValue(rawHeaders, 'content-transfer-encoding')), parts: [] };
}

/** The first text/plain body (decoded to a string), for snippets and searches. */
export function plainText(part: MimePart): string {
  if (!part.parts.length) {
    if (part.filename) return '';
    if (part.mimeType === 'text/plain') return part.body.toString('utf8');
    if (part.mimeType === 'text/html') return part.body.toString('utf8').replace(/<[^>]*>/g, ' ');
    return '';
  }
  for (const p of part.parts) {
    const t = plainText(p);
    if (t) return t;
  }
  return '';
}

export function hasAttachment(part: MimePart): boolean {
  return part.filename !== '' || part.parts.some(hasAttachment);
}

// ---------------------------------------------------------------------------------------------
// Building messages (seeding, mutations)

export interface Attachment {
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface MessageSpec {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  date: Date;
  messageId: string;
  inReplyTo?: string;
  text: string;
  html?: string;
  attachments?: Attachment[];
  extraHeaders?: Header[];
  /** Deterministic boundary seed. */
  boundarySeed: string;
}

function wrapBase64(buf: Buffer): string {
  return (buf.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

function qpEncode(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  let line = '';
  for (const b of bytes) {
    let piece: string;
    if (b === 0x0a) {
      out += line + '\r\n';
      line = '';
      continue;
    }
    if (b === 0x0d) continue;
    if ((b >= 33 && b <= 126 && b !== 61) || b === 32) piece = String.fromCharCode(b);
    else piece = '=' + b.toString(16).toUpperCase().padStart(2, '0');
    if (line.length + piece.length > 75) {
      out += line + '=\r\n';
      line = '';
    }
    line += piece;
  }
  return out + line;
}

/** RFC 5322 date, e.g. `Tue, 02 Jan 2024 09:15:00 +0000`. */
export function rfc2822Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function address(a: string): string {
  // "Name <addr>" with a non-ASCII display name gets the name encoded.
  const m = /^(.*)<([^>]+)>$/.exec(a.trim());
  if (!m) return a;
  const name = (m[1] as string).trim().replace(/^"|"$/g, '');
  return `${/^[\x20-\x7e]*$/.test(name) ? `"${name}"` : encodeHeaderValue(name)} <${m[2]}>`;
}

export function buildMessage(spec: MessageSpec): Buffer {
  const lines: string[] = [];
  lines.push(`Date: ${rfc2822Date(spec.date)}`);
  lines.push(`From: ${address(spec.from)}`);
  lines.push(`To: ${spec.to.map(address).join(', ')}`);
  if (spec.cc?.length) lines.push(`Cc: ${spec.cc.map(address).join(', ')}`);
  lines.push(`Subject: ${encodeHeaderValue(spec.subject)}`);
  lines.push(`Message-ID: ${spec.messageId}`);
  if (spec.inReplyTo) {
    lines.push(`In-Reply-To: ${spec.inReplyTo}`);
    lines.push(`References: ${spec.inReplyTo}`);
  }
  for (const h of spec.extraHeaders ?? []) lines.push(`${h.name}: ${h.value}`);
  lines.push('MIME-Version: 1.0');
  const b = (n: number) => `${n}_${spec.boundarySeed}`;
  const textPart = ['Content-Type: text/plain; charset="UTF-8"', 'Content-Transfer-Encoding: quoted-printable', '', qpEncode(spec.text)];
  const alt = spec.html
    ? [
        `Content-Type: multipart/alternative; boundary="${b(1)}"`,
        '',
        `--${b(1)}`,
        ...textPart,
        `--${b(1)}`,
        'Content-Type: text/html; charset="UTF-8"',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        qpEncode(spec.html),
        `--${b(1)}--`,
      ]
    : textPart;
  if (!spec.attachments?.length) {
    lines.push(...alt);
  } else {
    lines.push(`Content-Type: multipart/mixed; boundary="${b(0)}"`, '', `--${b(0)}`, ...alt);
    for (const a of spec.attachments) {
      const name = /^[\x20-\x7e]*$/.test(a.filename) ? `"${a.filename}"` : `"${encodeHeaderValue(a.filename)}"`;
      lines.push(`--${b(0)}`, `Content-Type: ${a.contentType}; name=${name}`, `Content-Disposition: attachment; filename=${name}`, 'Content-Transfer-Encoding: base64', '', wrapBase64(a.data));
    }
    lines.push(`--${b(0)}--`);
  }
  return Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
}
