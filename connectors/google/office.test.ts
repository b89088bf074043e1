import { describe, expect, it } from 'vitest';
import { NATIVE, officeFromText } from '../../emulators/google/ooxml.js';
import { officeText, textDigest } from './office.js';

describe('office text', () => {
  it('reads the text of Word, Excel and PowerPoint files and digests it line-ending-blind', () => {
    expect(officeText(officeFromText(NATIVE.document, 'Titel\nÄnderung & <mehr>'))).toBe('Titel\nÄnderung & <mehr>');
    expect(officeText(officeFromText(NATIVE.spreadsheet, 'a,b\n1,2'))).toBe('a,b\n1,2');
    expect(officeText(officeFromText(NATIVE.presentation, 'Slide\nline'))).toBe('Slide\nline');
    expect(textDigest('a\r\nb  \n')).toBe(textDigest('a\nb'));
    expect(textDigest('a\nb')).not.toBe(textDigest('a\nc'));
    expect(() => officeText(Buffer.from('plain'))).toThrow(/ZIP/);
  });
});
