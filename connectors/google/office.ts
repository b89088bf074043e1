/**
 * Google-native documents (Docs, Sheets, Slides) are exported to Office formats. Their bytes are
 * not stable across exports (Google re-renders them), so verification compares their text: read
 * out of the Office file's XML (paragraphs of docx/pptx, rows of xlsx), digested.
 */
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';

export const NATIVE_EXPORT: Record<string, { mimeType: string; ext: string }> = {
  'application/vnd.google-apps.document': { mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', ext: 'docx' },
  'application/vnd.google-apps.spreadsheet': { mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ext: 'xlsx' },
  'application/vnd.google-apps.presentation': { mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', ext: 'pptx' },
};

export const FOLDER = 'application/vnd.google-apps.folder';

/** Native types with no export: skipped (declared as uncovered). */
export function isUnexportableNative(mimeType: string): boolean {
  return mimeType.startsWith('application/vnd.google-apps.') && mimeType !== FOLDER && !NATIVE_EXPORT[mimeType];
}

function unzip(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a ZIP (Office) file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('damaged ZIP central directory');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    if (name.endsWith('.xml')) {
      const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      const data = buf.subarray(start, start + csize);
      if (method === 0) out.set(name, Buffer.from(data));
      else if (method === 8) out.set(name, inflateRawSync(data));
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

const unescape = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d))).replace(/&amp;/g, '&');

/** The text of a docx, xlsx or pptx: one line per paragraph or row (cells joined by commas). */
export function officeText(buf: Buffer): string {
  const parts = unzip(buf);
  const doc = parts.get('word/document.xml');
  if (doc) return [...doc.toString('utf8').matchAll(/<w:p[ >].*?<\/w:p>|<w:p\/>/gs)].map((p) => [...p[0].matchAll(/<w:t(?: [^>]*)?>(.*?)<\/w:t>/gs)].map((t) => unescape(t[1] as string)).join('')).join('\n');
  const sheets = [...parts.keys()].filter((k) => /^xl\/worksheets\/sheet\d+\.xml$/.test(k)).sort();
  if (sheets.length) {
    const shared = [...(parts.get('xl/sharedStrings.xml')?.toString('utf8') ?? '').matchAll(/<si>(.*?)<\/si>/gs)].map((si) => [...si[1]!.matchAll(/<t(?: [^>]*)?>(.*?)<\/t>/gs)].map((t) => unescape(t[1] as string)).join(''));
    return sheets
      .map((k) =>
        [...(parts.get(k) as Buffer).toString('utf8').matchAll(/<row[ >].*?<\/row>/gs)]
          .map((r) =>
            [...r[0].matchAll(/<c\b([^>]*)>(.*?)<\/c>/gs)]
              .map((c) => {
                const inline = /<t(?: [^>]*)?>(.*?)<\/t>/s.exec(c[2] as string);
                if (inline) return unescape(inline[1] as string);
                const v = /<v>(.*?)<\/v>/s.exec(c[2] as string)?.[1] ?? '';
                return /t="s"/.test(c[1] as string) ? (shared[Number(v)] ?? '') : unescape(v);
              })
              .join(','),
          )
          .join('\n'),
      )
      .join('\n');
  }
  const slides = [...parts.keys()].filter((k) => /^ppt\/slides\/slide\d+\.xml$/.test(k)).sort((a, b) => Number(/(\d+)\.xml$/.exec(a)?.[1]) - Number(/(\d+)\.xml$/.exec(b)?.[1]));
  if (slides.length) return slides.map((k) => [...(parts.get(k) as Buffer).toString('utf8').matchAll(/<a:p>.*?<\/a:p>/gs)].map((p) => [...p[0].matchAll(/<a:t>(.*?)<\/a:t>/gs)].map((t) => unescape(t[1] as string)).join('')).join('\n')).join('\n');
  throw new Error('not a Word, Excel or PowerPoint document');
}

/** Digest of a document's text, insensitive to line endings and trailing blanks. */
export function textDigest(text: string): string {
  const norm = text.replace(/\r\n?/g, '\n').split('\n').map((l) => l.trimEnd()).join('\n').trim();
  return 'text:' + createHash('sha256').update(norm, 'utf8').digest('hex');
}
