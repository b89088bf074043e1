/**
 * The MIME Exchange produces for `GET /messages/{id}/$value`: built from the item's properties
 * (transport headers first, then From/To/Cc/Subject/Date/Message-ID, RFC 2047 encoded words for
 * non-ASCII text, RFC 2231 file names), a text/html or text/plain body in quoted-printable, and
 * attachments in base64. Deterministic: the same item gives the same bytes.
 */
import { createHash } from 'node:crypto';
import type { AttachmentState, MessageState, Recipient } from './state.js';

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

/** RFC 2047 encoded words (UTF-8, B encoding) for non-ASCII header text, split at character boundaries. */
export function encodeWords(text: string): string {
  if (ASCII_PRINTABLE.test(text)) return text;
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
  return words.map((w) => `=?utf-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

function address(r: Recipient): string {
  const name = r.emailAddress.name;
  if (!name || name === r.emailAddress.address) return r.emailAddress.address;
  const display = ASCII_PRINTABLE.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : encodeWords(name);
  return `${display} <${r.emailAddress.address}>`;
}

function addressList(rs: Recipient[]): string {
  return rs.map(address).join(',\r\n ');
}

/** RFC 5322 date, e.g. "Tue, 05 Mar 2024 10:15:00 +0000". */
export function rfc5322Date(iso: string): string {
  const d = new Date(iso);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Quoted-printable (RFC 2045) with soft line breaks at 76 characters; CRLF line ends. */
export function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.replace(/\r?\n/g, '\n').split('\n')) {
    const bytes = Buffer.from(line, 'utf8');
    let cur = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const last = i === bytes.length - 1;
      let enc: string;
      if ((b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last)) enc = String.fromCharCode(b);
      else enc = '=' + b.toString(16).toUpperCase().padStart(2, '0');
      if (cur.length + enc.length > 75) {
        out.push(cur + '=');
        cur = '';
      }
      cur += enc;
    }
    out.push(cur);
  }
  return out.join('\r\n');
}

function base64Lines(buf: Buffer): string {
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i += 57) lines.push(buf.subarray(i, i + 57).toString('base64'));
  return lines.join('\r\n');
}

function fileNameParams(name: string, param: 'name' | 'filename'): string {
  if (ASCII_PRINTABLE.test(name)) return `${param}="${name.replace(/(["\\])/g, '\\$1')}"`;
  // RFC 2231 for the parameter, plus an encoded-word fallback that many clients read.
  return `${param}="${encodeWords(name).replace(/\r\n /g, ' ')}";\r\n ${param}*=utf-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())}`;
}

function attachmentPart(a: AttachmentState): string {
  const lines = [
    `Content-Type: ${a.contentType}; ${fileNameParams(a.name, 'name')}`,
    `Content-Description: ${encodeWords(a.name)}`,
    `Content-Disposition: ${a.isInline ? 'inline' : 'attachment'}; ${fileNameParams(a.name, 'filename')}; size=${a.size}`,
  ];
  if (a.contentId) lines.push(`Content-ID: <${a.contentId}>`);
  lines.push('Content-Transfer-Encoding: base64', '', base64Lines(a.content));
  return lines.join('\r\n');
}

/** The MIME of a message as Exchange would serve it. */
export function buildMime(m: MessageState): Buffer {
  const boundary = `_000_${createHash('sha256').update(m.id).digest('hex').slice(0, 24)}_`;
  const h: string[] = [];
  for (const x of m.internetMessageHeaders) h.push(`${x.name}: ${x.value}`);
  if (m.from) h.push(`From: ${address(m.from)}`);
  if (m.sender && m.from && m.sender.emailAddress.address !== m.from.emailAddress.address) h.push(`Sender: ${address(m.sender)}`);
  if (m.toRecipients.length) h.push(`To: ${addressList(m.toRecipients)}`);
  if (m.ccRecipients.length) h.push(`CC: ${addressList(m.ccRecipients)}`);
  if (m.isDraft && m.bccRecipients.length) h.push(`BCC: ${addressList(m.bccRecipients)}`);
  if (m.replyTo.length) h.push(`Reply-To: ${addressList(m.replyTo)}`);
  h.push(`Subject: ${encodeWords(m.subject)}`);
  h.push(`Thread-Topic: ${encodeWords(m.subject.replace(/^(re|fw|fwd|aw|wg):\s*/i, ''))}`);
  h.push(`Date: ${rfc5322Date(m.sentDateTime ?? m.receivedDateTime)}`);
  h.push(`Message-ID: ${m.internetMessageId}`);
  if (m.importance !== 'normal') h.push(`Importance: ${m.importance === 'high' ? 'high' : 'low'}`, `X-Priority: ${m.importance === 'high' ? 1 : 5}`);
  h.push('Content-Language: en-US', 'X-MS-Has-Attach: ' + (m.attachments.some((a) => !a.isInline) ? 'yes' : ''), 'MIME-Version: 1.0');
  const bodyType = m.body.contentType === 'html' ? 'text/html' : 'text/plain';
  const bodyPart = [`Content-Type: ${bodyType}; charset="utf-8"`, 'Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(m.body.content)].join('\r\n');
  let text: string;
  if (m.attachments.length === 0) {
    text = [...h, bodyPart].join('\r\n');
  } else {
    const parts = [bodyPart, ...m.attachments.map(attachmentPart)];
    text = [
      ...h,
      `Content-Type: multipart/mixed;\r\n\tboundary="${boundary}"`,
      '',
      ...parts.map((p) => `--${boundary}\r\n${p}\r\n`),
      `--${boundary}--`,
      '',
    ].join('\r\n');
  }
  return Buffer.from(text.endsWith('\r\n') ? text : text + '\r\n', 'utf8');
}
