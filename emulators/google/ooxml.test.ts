import { describe, expect, it } from 'vitest';
import { NATIVE, officeFromText, textFromOffice, unzip, zip } from './ooxml.js';

describe('ooxml', () => {
  it('zips and unzips deterministically', () => {
    const a = zip([{ name: 'a.txt', data: Buffer.from('hello') }, { name: 'dir/b.xml', data: Buffer.from('<x>Grüße</x>') }]);
    const b = zip([{ name: 'a.txt', data: Buffer.from('hello') }, { name: 'dir/b.xml', data: Buffer.from('<x>Grüße</x>') }]);
    expect(a.equals(b)).toBe(true);
    const m = unzip(a);
    expect(m.get('dir/b.xml')?.toString()).toBe('<x>Grüße</x>');
  });

  it('round-trips text through docx, xlsx and pptx', () => {
    for (const [type, text] of [[NATIVE.document, 'Title\nDécisions & <notes>'], [NATIVE.spreadsheet, 'item,amount\nÄpfel,3'], [NATIVE.presentation, 'Slide one\nSecond line']] as const) {
      expect(textFromOffice(officeFromText(type, text))).toBe(text);
    }
  });

  it('refuses what is not an Office file', () => {
    expect(() => textFromOffice(Buffer.from('not a zip'))).toThrow(/ZIP/);
  });
});
