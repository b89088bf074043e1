import { describe, expect, it } from 'vitest';
import { buildMessage, decodeHeaderValue, encodeHeaderValue, hasAttachment, headerValue, parseMime, plainText } from './mime.js';

describe('mime', () => {
  it('encodes non-ASCII headers as RFC 2047 words and decodes them back', () => {
    for (const text of ['Réunion budget Q3', '日本語の件名: 進捗報告 — a long subject that needs more than one encoded word', 'plain ascii']) {
      const enc = encodeHeaderValue(text);
      expect(/^[\x20-\x7e\r\n]*$/.test(enc)).toBe(true);
      expect(decodeHeaderValue(enc.replace(/\r\n/g, ''))).toBe(text);
    }
    expect(decodeHeaderValue('=?ISO-8859-1?Q?Caf=E9_ouvert?=')).toBe('Café ouvert');
  });

  it('builds multipart messages with attachments that parse back byte for byte', () => {
    const data = Buffer.from([0, 1, 2, 250, 251, 252]);
    const raw = buildMessage({
      from: 'Zoë Ångström <zoe@acme.test>', to: ['bob@acme.test'], subject: 'Übersicht', date: new Date(Date.UTC(2024, 0, 2, 9, 15)),
      messageId: '<m1@acme.test>', text: 'Hallo — Grüße\nline 2', html: '<p>Hallo</p>', attachments: [{ filename: 'Übersicht.bin', contentType: 'application/octet-stream', data }], boundarySeed: 's1',
    });
    const p = parseMime(raw);
    expect(p.mimeType).toBe('multipart/mixed');
    expect(headerValue(p.headers, 'subject')).toBe('Übersicht');
    expect(headerValue(p.headers, 'from')).toBe('Zoë Ångström <zoe@acme.test>');
    expect(headerValue(p.headers, 'date')).toBe('Tue, 02 Jan 2024 09:15:00 +0000');
    expect(plainText(p)).toBe('Hallo — Grüße\r\nline 2');
    expect(hasAttachment(p)).toBe(true);
    const att = p.parts[1];
    expect(att?.filename).toBe('Übersicht.bin');
    expect(att?.body.equals(data)).toBe(true);
    expect(p.parts[0]?.parts.map((x) => x.mimeType)).toEqual(['text/plain', 'text/html']);
  });
});
