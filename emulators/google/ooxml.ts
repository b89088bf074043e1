/**
 * Google-native documents in the emulator hold text; exporting them gives real Office Open XML
 * files (a ZIP with the document XML), and uploading an Office file with a Google mimeType converts
 * it back by reading the text out of the ZIP. Deterministic: the same text gives the same bytes.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export const NATIVE = {
  document: 'application/vnd.google-apps.document',
  spreadsheet: 'application/vnd.google-apps.spreadsheet',
  presentation: 'application/vnd.google-apps.presentation',
  folder: 'application/vnd.google-apps.folder',
  form: 'application/vnd.google-apps.form',
  shortcut: 'application/vnd.google-apps.shortcut',
} as const;

export const OFFICE = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
} as const;

/** Export formats per native type (Drive's exportLinks / about.exportFormats, the subset served). */
export const EXPORT_FORMATS: Record<string, string[]> = {
  [NATIVE.document]: [OFFICE.docx, 'text/plain'],
  [NATIVE.spreadsheet]: [OFFICE.xlsx, 'text/csv'],
  [NATIVE.presentation]: [OFFICE.pptx, 'text/plain'],
};

/** Import formats: upload mimeType -> native types it converts to. */
export const IMPORT_FORMATS: Record<string, string[]> = {
  [OFFICE.docx]: [NATIVE.document],
  [OFFICE.xlsx]: [NATIVE.spreadsheet],
  [OFFICE.pptx]: [NATIVE.presentation],
  'text/plain': [NATIVE.document],
  'text/csv': [NATIVE.spreadsheet],
};

// ---------------------------------------------------------------------------------------------
// ZIP (deflate), enough for OOXML

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function zip(entries: Array<{ name: string; data: Buffer }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  // Fixed DOS date/time (1980-01-01 00:00) keeps the bytes deterministic.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const compressed = deflateRawSync(e.data, { level: 9 });
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, compressed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** Entries of a ZIP (stored or deflated), by the central directory. Throws on anything else. */
export function unzip(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a ZIP file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad ZIP central directory');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOff = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const lNameLen = buf.readUInt16LE(localOff + 26);
    const lExtraLen = buf.readUInt16LE(localOff + 28);
    const start = localOff + 30 + lNameLen + lExtraLen;
    const data = buf.subarray(start, start + csize);
    if (method === 0) out.set(name, Buffer.from(data));
    else if (method === 8) out.set(name, inflateRawSync(data));
    else throw new Error(`ZIP method ${method} not supported`);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Office documents from text, and text from Office documents

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const xmlUnescape = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d))).replace(/&amp;/g, '&');

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const rels = (target: string, type: string) =>
  `${XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${type}" Target="${target}"/></Relationships>`;
const OFFICE_DOC_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument';

function contentTypes(overrides: Array<[string, string]>): string {
  return `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>${overrides
    .map(([p, t]) => `<Override PartName="${p}" ContentType="${t}"/>`)
    .join('')}</Types>`;
}

/** Lines of text -> Office file of the native type's export format. */
export function officeFromText(nativeType: string, text: string): Buffer {
  const lines = text.split('\n');
  if (nativeType === NATIVE.document) {
    const body = lines.map((l) => `<w:p><w:r><w:t xml:space="preserve">${xmlEscape(l)}</w:t></w:r></w:p>`).join('');
    return zip([
      { name: '[Content_Types].xml', data: Buffer.from(contentTypes([['/word/document.xml', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml']])) },
      { name: '_rels/.rels', data: Buffer.from(rels('word/document.xml', OFFICE_DOC_REL)) },
      { name: 'word/document.xml', data: Buffer.from(`${XML_HEAD}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`) },
    ]);
  }
  if (nativeType === NATIVE.spreadsheet) {
    const rows = lines
      .map((l, r) => `<row r="${r + 1}">${l.split(',').map((cell, c) => `<c r="${String.fromCharCode(65 + (c % 26))}${r + 1}" t="inlineStr"><is><t>${xmlEscape(cell)}</t></is></c>`).join('')}</row>`)
      .join('');
    return zip([
      { name: '[Content_Types].xml', data: Buffer.from(contentTypes([['/xl/workbook.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml'], ['/xl/worksheets/sheet1.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml']])) },
      { name: '_rels/.rels', data: Buffer.from(rels('xl/workbook.xml', OFFICE_DOC_REL)) },
      { name: 'xl/workbook.xml', data: Buffer.from(`${XML_HEAD}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`) },
      { name: 'xl/_rels/workbook.xml.rels', data: Buffer.from(rels('worksheets/sheet1.xml', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet')) },
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.from(`${XML_HEAD}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows}</sheetData></worksheet>`) },
    ]);
  }
  if (nativeType === NATIVE.presentation) {
    const slide = lines.map((l) => `<a:p><a:r><a:t>${xmlEscape(l)}</a:t></a:r></a:p>`).join('');
    return zip([
      { name: '[Content_Types].xml', data: Buffer.from(contentTypes([['/ppt/presentation.xml', 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml'], ['/ppt/slides/slide1.xml', 'application/vnd.openxmlformats-officedocument.presentationml.slide+xml']])) },
      { name: '_rels/.rels', data: Buffer.from(rels('ppt/presentation.xml', OFFICE_DOC_REL)) },
      { name: 'ppt/presentation.xml', data: Buffer.from(`${XML_HEAD}<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><p:sldIdLst><p:sldId id="256" r:id="rId1"/></p:sldIdLst></p:presentation>`) },
      { name: 'ppt/_rels/presentation.xml.rels', data: Buffer.from(rels('slides/slide1.xml', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide')) },
      { name: 'ppt/slides/slide1.xml', data: Buffer.from(`${XML_HEAD}<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody>${slide}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`) },
    ]);
  }
  throw new Error(`no Office export for ${nativeType}`);
}

/** The text of an Office file: paragraphs (docx, pptx) or rows of comma-joined cells (xlsx). */
export function textFromOffice(buf: Buffer): string {
  const entries = unzip(buf);
  const doc = entries.get('word/document.xml');
  if (doc) return [...doc.toString('utf8').matchAll(/<w:p[ >].*?<\/w:p>|<w:p\/>/gs)].map((p) => [...p[0].matchAll(/<w:t(?: [^>]*)?>(.*?)<\/w:t>/gs)].map((t) => xmlUnescape(t[1] as string)).join('')).join('\n');
  const sheet = entries.get('xl/worksheets/sheet1.xml');
  if (sheet) return [...sheet.toString('utf8').matchAll(/<row[ >].*?<\/row>/gs)].map((r) => [...r[0].matchAll(/<t(?: [^>]*)?>(.*?)<\/t>/gs)].map((t) => xmlUnescape(t[1] as string)).join(',')).join('\n');
  const slides = [...entries.keys()].filter((k) => /^ppt\/slides\/slide\d+\.xml$/.test(k)).sort();
  if (slides.length) return slides.map((k) => [...(entries.get(k) as Buffer).toString('utf8').matchAll(/<a:p>.*?<\/a:p>/gs)].map((p) => [...p[0].matchAll(/<a:t>(.*?)<\/a:t>/gs)].map((t) => xmlUnescape(t[1] as string)).join('')).join('\n')).join('\n');
  throw new Error('not a Word, Excel or PowerPoint file');
}
