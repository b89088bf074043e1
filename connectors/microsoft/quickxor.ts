/**
 * OneDrive's QuickXorHash (file.hashes.quickXorHash): a 160-bit register, input byte i XORed in at
 * bit offset (i * 11) mod 160 (little-endian, wrapping), the 64-bit little-endian length XORed into
 * the last 8 bytes; base64. Used to check downloads and to compare files with the standby without
 * reading them back.
 */
import { Transform, type TransformCallback } from 'node:stream';

export class QuickXor {
  private reg = new Uint8Array(20);
  private length = 0;

  update(data: Uint8Array): this {
    const reg = this.reg;
    let bit = (this.length * 11) % 160;
    for (let i = 0; i < data.length; i++) {
      const v = (data[i] as number) << (bit & 7);
      const idx = bit >>> 3;
      reg[idx] = (reg[idx] as number) ^ (v & 0xff);
      const next = idx === 19 ? 0 : idx + 1;
      reg[next] = (reg[next] as number) ^ (v >>> 8);
      bit += 11;
      if (bit >= 160) bit -= 160;
    }
    this.length += data.length;
    return this;
  }

  get bytes(): number {
    return this.length;
  }

  base64(): string {
    const out = Buffer.from(this.reg);
    let len = BigInt(this.length);
    for (let i = 0; i < 8; i++) {
      out[12 + i] = (out[12 + i] as number) ^ Number(len & 0xffn);
      len >>= 8n;
    }
    return out.toString('base64');
  }
}

/** A pass-through stream that hashes what flows through it. */
export class QuickXorStream extends Transform {
  readonly hash = new QuickXor();
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
}
