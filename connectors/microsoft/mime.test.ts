import { describe, expect, it } from 'vitest';
import { attachments, decodeWords, headerValue, parseMime, parseParams } from './mime.js';
import { QuickXor } from './quickxor.js';
import { mapAddress, userSegment } from './index.js';
import { bodyText, isoSeconds } from './normalize.js';

const eml = [
  'From: =?utf-8?B?w4ltaWxl?= Zola <emile@example.com>',
  'To: a@example.com',
  'Subject: =?utf-8?Q?R=C3=A9sum=C3=A9_du_jour?= =?utf-8?B?IOKAlCBvaw==?=',
  'Message-ID: <x@y>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed;',
  '\tboundary="b1"',
  '',
  'preamble',
  '--b1',
  'Content-Type: multipart/alternative; boundary=b2',
  '',
  '--b2',
  'Content-Type: text/plain; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Gr=FC=DFe, soft=',
  'break',
  '--b2',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>hi</p>',
  '--b2--',
  '--b1',
  'Content-Type: application/pdf; name="report.pdf"',
  'Content-Disposition: attachment; filename="report.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 binary \u0000\u00ff').toString('base64'),
  '--b1',
  'Content-Type: text/csv',
  "Content-Disposition: attachment; filename*0*=utf-8''%C3%9Cber; filename*1*=sicht.csv",
  '',
  'a;b',
  '--b1',
  'Content-Type: image/png',
  'Content-Disposition: inline',
  'Content-ID: <img1@x>',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from([137, 80, 78, 71]).toString('base64'),
  '--b1--',
  '',
].join('\r\n');

describe('MIME reader', () => {
  it('decodes encoded words, RFC 2231 parameters and transfer encodings, and finds the attachments', () => {
    const root = parseMime(Buffer.from(eml, 'utf8'));
    expect(headerValue(root, 'subject')).toBe('Résumé du jour — ok');
    expect(headerValue(root, 'from')).toBe('Émile Zola <emile@example.com>');
    const plain = root.parts[0]?.parts[0];
    expect(plain?.body.toString('latin1')).toBe('Grüße, softbreak');
    const atts = attachments(root);
    expect(atts.map((a) => [a.name, a.contentType, a.isInline, a.contentId])).toEqual([
      ['report.pdf', 'application/pdf', false, null],
      ['Übersicht.csv', 'text/csv', false, null],
      ['attachment', 'image/png', true, 'img1@x'],
    ]);
    expect(atts[0]?.content.toString('latin1')).toBe('%PDF-1.4 binary \u0000\u00c3\u00bf');
    expect(atts[2]?.content).toEqual(Buffer.from([137, 80, 78, 71]));
  });

  it('parses parameters with quotes and continuations', () => {
    expect(parseParams('attachment; filename="a;b.txt"; size=3')).toEqual({ value: 'attachment', params: { filename: 'a;b.txt', size: '3' } });
    expect(decodeWords('=?iso-8859-1?Q?caf=E9?=')).toBe('café');
  });
});

describe('QuickXorHash', () => {
  it('matches the published test vectors', () => {
    expect(new QuickXor().base64()).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    expect(new QuickXor().update(Buffer.from('Sg==', 'base64')).base64()).toBe('SgAAAAAAAAAAAAAAAQAAAAAAAAA=');
    expect(new QuickXor().update(Buffer.from('tbQ=', 'base64')).base64()).toBe('taAFAAAAAAAAAAAAAgAAAAAAAAA=');
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
    expect(new QuickXor().update(data.subarray(0, 333)).update(data.subarray(333)).base64()).toBe(new QuickXor().update(data).base64());
  });
});

describe('identity and normalization helpers', () => {
  it('maps addresses: explicit users first, then domains, else unchanged', () => {
    const identity = { domains: { 'contoso.com': 'fabrikam.com' }, users: { 'ceo@contoso.com': 'boss@fabrikam.com' } };
    expect(mapAddress('Adele@Contoso.com', identity)).toBe('Adele@fabrikam.com');
    expect(mapAddress('ceo@contoso.com', identity)).toBe('boss@fabrikam.com');
    expect(mapAddress('x@other.com', identity)).toBe('x@other.com');
    expect(userSegment('Zoë.Łukasik@contoso.com')).toBe('zo-.-ukasik_contoso.com');
  });

  it('compares bodies on their visible text and dates to the second', () => {
    expect(bodyText({ contentType: 'html', content: '<html><head><style>p{}</style></head><body><p>Gr&uuml;&szlig;e&nbsp;&amp; <b>hi</b></p></body></html>' })).toBe('Grüße & hi');
    expect(bodyText({ contentType: 'text', content: ' a \n\n b ' })).toBe('a b');
    expect(isoSeconds('2026-01-05T09:00:00.0000000')).toBe('2026-01-05T09:00:00Z');
    expect(isoSeconds('2026-01-05T10:00:00+01:00')).toBe('2026-01-05T09:00:00Z');
  });
});
