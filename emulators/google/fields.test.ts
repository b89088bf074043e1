import { describe, expect, it } from 'vitest';
import { applyFields, parseFields } from './fields.js';

describe('fields', () => {
  const body = { kind: 'drive#fileList', nextPageToken: 't', files: [{ id: '1', name: 'a', owners: [{ emailAddress: 'x', displayName: 'X' }], size: '3' }] };
  it('selects nested fields, sub-selections and paths', () => {
    expect(applyFields(body, parseFields('nextPageToken,files(id,owners(emailAddress))'))).toEqual({ nextPageToken: 't', files: [{ id: '1', owners: [{ emailAddress: 'x' }] }] });
    expect(applyFields(body, parseFields('files/name'))).toEqual({ files: [{ name: 'a' }] });
    expect(applyFields(body, parseFields('*'))).toEqual(body);
  });
  it('rejects malformed selections with a 400', () => {
    expect(() => parseFields('files(id')).toThrow(/Invalid field selection/);
  });
});
