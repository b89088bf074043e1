import { describe, expect, it } from 'vitest';
import { keyProblem } from '../../targets/keys.js';
import { blobKey, escapeName, hashedNames, metaKey, parseBlobKey, parseRunKey, runKey } from './paths.js';

describe('paths', () => {
  it('escapes names into valid, distinct, readable key segments', () => {
    const names = ['acme/api', 'alice@acme.com', '.hidden', '..', 'a=b', 'a=3Db', 'x y', 'Ünïcode', 'plain-name_1.2', 'x'.repeat(500), 'x'.repeat(499) + 'y'];
    const escaped = names.map(escapeName);
    expect(escaped.slice(0, 3)).toEqual(['acme=2Fapi', 'alice=40acme.com', '=2Ehidden']);
    expect(new Set(escaped).size).toBe(names.length);
    for (const e of escaped) {
      expect(keyProblem(`runs/${e}`)).toBeNull();
      expect(e.length).toBeLessThanOrEqual(160);
    }
    expect(() => escapeName('')).toThrow(/empty/);
  });

  it('hashes names when encrypted', () => {
    const codec = hashedNames(Buffer.alloc(32, 1));
    expect(codec.encode('alice@acme.com')).toMatch(/^[0-9a-f]{32}$/);
    expect(codec.encode('alice@acme.com')).not.toBe(hashedNames(Buffer.alloc(32, 2)).encode('alice@acme.com'));
  });

  it('builds and parses blob and run keys', () => {
    const sha = 'ab'.padEnd(64, '0');
    expect(blobKey(sha)).toBe(`blobs/ab/${sha}`);
    expect(parseBlobKey(blobKey(sha))).toBe(sha);
    expect(parseBlobKey(`blobs/cd/${sha}`)).toBeNull();
    expect(() => blobKey('XYZ')).toThrow(/invalid blob id/);
    expect(runKey('runs/s/c', 12)).toBe('runs/s/c/0000000012');
    expect(parseRunKey('runs/s/c/0000000012')).toEqual({ sourceName: 's', scopeName: 'c', number: 12 });
    expect(parseRunKey('runs/s/c/12')).toBeNull();
    expect(parseRunKey('runs/s/c/0000000000')).toBeNull();
  });

  it('validates meta names', () => {
    expect(metaKey('failover/github')).toBe('meta/failover/github');
    expect(() => metaKey('../x')).toThrow(/invalid meta document name/);
    expect(() => metaKey('a b')).toThrow(/invalid meta document name/);
  });
});
