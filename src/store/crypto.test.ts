import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DecryptError, ObjectCrypto } from './crypto.js';
import { readAll } from './objects.js';

const key = randomBytes(32);
const crypto = new ObjectCrypto(key, { chunkLog2: 10 }); // 1 KiB chunks: many frames in small tests
const CHUNK = 1024;

async function viaStream(t: NodeJS.ReadWriteStream, data: Buffer, piece = 333): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let off = 0; off < data.length; off += piece) pieces.push(data.subarray(off, off + piece));
  return readAll(Readable.from(pieces).pipe(t as never));
}

describe('ObjectCrypto', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17]) {
    it(`round-trips ${size} bytes through buffers and streams, in any combination`, async () => {
      const plain = randomBytes(size);
      const a = crypto.encryptBuffer(plain);
      const b = await viaStream(crypto.encryptStream(), plain);
      expect(a.length).toBe(crypto.encryptedSize(size));
      expect(b.length).toBe(crypto.encryptedSize(size));
      expect(a.equals(b)).toBe(false); // fresh salt per object
      expect(crypto.decryptBuffer(a, 'x').equals(plain)).toBe(true);
      expect(crypto.decryptBuffer(b, 'x').equals(plain)).toBe(true);
      expect((await viaStream(crypto.decryptStream('x'), a, 100)).equals(plain)).toBe(true);
      expect((await viaStream(crypto.decryptStream('x'), b, 5000)).equals(plain)).toBe(true);
    });
  }

  it('does not contain the plaintext', () => {
    const plain = Buffer.from('Subject: quarterly numbers\r\n\r\nconfidential '.repeat(100));
    const sealed = crypto.encryptBuffer(plain);
    expect(sealed.includes(Buffer.from('confidential'))).toBe(false);
  });

  const plain = randomBytes(3 * CHUNK + 100);
  const tampers: Array<[string, (b: Buffer) => Buffer]> = [
    ['a flipped byte in a chunk', (b) => { const c = Buffer.from(b); c[100] = c[100]! ^ 1; return c; }],
    ['a flipped byte in the header salt', (b) => { const c = Buffer.from(b); c[20] = c[20]! ^ 1; return c; }],
    ['a changed chunk size in the header', (b) => { const c = Buffer.from(b); c[5] = 11; return c; }],
    ['a truncated tail', (b) => b.subarray(0, b.length - 5)],
    ['a dropped last chunk', (b) => b.subarray(0, 40 + 3 * (CHUNK + 16))],
    ['a dropped middle chunk', (b) => Buffer.concat([b.subarray(0, 40 + CHUNK + 16), b.subarray(40 + 2 * (CHUNK + 16))])],
    ['swapped chunks', (b) => Buffer.concat([b.subarray(0, 40), b.subarray(40 + CHUNK + 16, 40 + 2 * (CHUNK + 16)), b.subarray(40, 40 + CHUNK + 16), b.subarray(40 + 2 * (CHUNK + 16))])],
    ['appended bytes', (b) => Buffer.concat([b, Buffer.alloc(16)])],
    ['only the header', (b) => b.subarray(0, 40)],
  ];
  for (const [name, tamper] of tampers) {
    it(`detects ${name}`, async () => {
      const bad = tamper(crypto.encryptBuffer(plain));
      expect(() => crypto.decryptBuffer(bad, 'obj')).toThrow(DecryptError);
      await expect(viaStream(crypto.decryptStream('obj'), bad)).rejects.toThrow(/cannot decrypt obj/);
    });
  }

  it('refuses a wrong key', () => {
    const other = new ObjectCrypto(randomBytes(32), { chunkLog2: 10 });
    expect(() => other.decryptBuffer(crypto.encryptBuffer(plain), 'obj')).toThrow(/failed authentication/);
  });

  it('maps stream errors through the given function', async () => {
    const bad = crypto.encryptBuffer(plain).subarray(0, 500);
    await expect(viaStream(crypto.decryptStream('obj', (e) => new Error(`mapped: ${e.message}`)), bad)).rejects.toThrow(/^mapped: cannot decrypt obj/);
  });

  it('refuses keys of the wrong size', () => {
    expect(() => new ObjectCrypto(randomBytes(16))).toThrow(/must be 32 bytes \(got 16\)/);
  });
});
