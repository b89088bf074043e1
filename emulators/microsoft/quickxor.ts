/**
 * OneDrive's QuickXorHash: a 160-bit register; byte i of the input is XORed in at bit offset
 * (i * 11) mod 160 (little-endian bit order, wrapping); at the end the 64-bit little-endian length
 * is XORed into the last 8 bytes. Served base64-encoded as file.hashes.quickXorHash.
 */
export class QuickXorHash {
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

  digest(): Buffer {
    const out = Buffer.from(this.reg);
    let len = BigInt(this.length);
    for (let i = 0; i < 8; i++) {
      out[12 + i] = (out[12 + i] as number) ^ Number(len & 0xffn);
      len >>= 8n;
    }
    return out;
  }

  digestBase64(): string {
    return this.digest().toString('base64');
  }
}

export function quickXorBase64(data: Uint8Array): string {
  return new QuickXorHash().update(data).digestBase64();
}
