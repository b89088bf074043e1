/**
 * A self-signed certificate for the emulator's HTTPS listener, built with node:crypto alone (no
 * openssl binary): the Microsoft auth library refuses authorities that are not https, and the Graph
 * client only attaches tokens to https URLs, so the emulator must speak TLS. The certificate is its
 * own CA (basicConstraints CA:TRUE) for 127.0.0.1, ::1 and localhost; clients trust it through
 * NODE_EXTRA_CA_CERTS (the file the emulator writes) or an explicit CA option.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';

export interface SelfSignedCert {
  /** PEM certificate (also the CA to trust). */
  cert: string;
  /** PEM private key (PKCS#8). */
  key: string;
}

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
const set = (...c: Buffer[]): Buffer => tlv(0x31, ...c);

function oid(text: string): Buffer {
  const parts = text.split('.').map(Number);
  const out: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && ((b[1] as number) & 0x80) === 0) b = b.subarray(1);
  if (((b[0] as number) & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);
const octetString = (b: Buffer): Buffer => tlv(0x04, b);

function name(cn: string): Buffer {
  return seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))), set(seq(oid('2.5.4.10'), tlv(0x0c, Buffer.from('norestore emulators', 'utf8')))));
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A fresh P-256 self-signed certificate valid from one hour ago for `days` days. */
export function createSelfSignedCert(opts: { commonName?: string; days?: number; hosts?: string[] } = {}): SelfSignedCert {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  // A unique subject per certificate: with several emulator CAs in one trust store (NODE_EXTRA_CA_CERTS),
  // OpenSSL picks issuers by subject name.
  const subject = name(opts.commonName ?? `norestore Microsoft 365 emulator ${randomBytes(6).toString('hex')}`);
  const now = Date.now();
  const validity = seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + (opts.days ?? 30) * 86400_000)));
  const hosts = opts.hosts ?? ['127.0.0.1', '::1', 'localhost'];
  const sanEntries = hosts.map((h) => {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(h)) return tlv(0x87, Buffer.from(h.split('.').map(Number)));
    if (h === '::1') return tlv(0x87, Buffer.from([...new Array(15).fill(0), 1]));
    return tlv(0x82, Buffer.from(h, 'ascii'));
  });
  // The key identifier is the SHA-1 of the public key bits, as RFC 5280 suggests.
  const keyBits = spki.subarray(spki.length - 65);
  const ski = createHash('sha1').update(keyBits).digest();
  const extensions = tlv(
    0xa3,
    seq(
      seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), octetString(seq(tlv(0x01, Buffer.from([0xff]))))),
      seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), octetString(tlv(0x03, Buffer.from([0x01, 0x86])))), // digitalSignature, keyCertSign, cRLSign
      seq(oid('2.5.29.37'), octetString(seq(oid('1.3.6.1.5.5.7.3.1')))), // serverAuth
      seq(oid('2.5.29.14'), octetString(octetString(ski))),
      seq(oid('2.5.29.35'), octetString(seq(tlv(0x80, ski)))), // authorityKeyIdentifier = own key
      seq(oid('2.5.29.17'), octetString(seq(...sanEntries))),
    ),
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const tbs = seq(tlv(0xa0, integer(Buffer.from([2]))), integer(serial), ecdsaSha256, subject, validity, subject, spki, extensions);
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ecdsaSha256, bitString(signature));
  const cert = pem('CERTIFICATE', der);
  // Parse once: a malformed encoding fails here rather than in a client's handshake.
  new X509Certificate(cert);
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
