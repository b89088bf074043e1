import { describe, expect, it } from 'vitest';
import { IdentityMap, decodeSegment, encodeSegment, parseScopeId, sharedDriveScopeId, userScopeId } from './types.js';

const tenant = (domain: string) => ({ domain, adminUser: `admin@${domain}`, serviceAccount: { clientEmail: 'sa@x.iam.gserviceaccount.com', privateKey: 'k' } });

describe('scope ids', () => {
  it('are path-safe, unique and reversible for any address and drive id', () => {
    for (const text of ["o'brien.x_y", 'zoë', '0AJ5x-Uk9PVA', 'a__b', 'A_41']) {
      const seg = encodeSegment(text);
      expect(seg).toMatch(/^[a-z0-9._-]+$/);
      expect(decodeSegment(seg)).toBe(text);
    }
    expect(encodeSegment('A_41')).not.toBe(encodeSegment('a_41'));
    const id = userScopeId('mailbox', "O'Brien@Acme.com");
    expect(id).toBe('gmail~acme.com~o_27brien');
    expect(parseScopeId(id)).toEqual({ kind: 'mailbox', user: "o'brien@acme.com" });
    expect(parseScopeId(sharedDriveScopeId('0AbcUk9PVA'))).toEqual({ kind: 'shared-drive', driveId: '0AbcUk9PVA' });
    expect(parseScopeId('directory')).toEqual({ kind: 'directory' });
    expect(() => parseScopeId('repo~x~y')).toThrow(/not a Google scope id/);
  });
});

describe('identity', () => {
  it('rewrites the source domain, honours overrides and the admin, keeps external addresses', () => {
    const id = new IdentityMap(tenant('acme.com'), tenant('acme-dr.com'), { users: { 'CEO@acme.com': 'boss@acme-dr.com' }, domains: { 'acme.de': 'acme-dr.de' } });
    expect(id.address('Alice@ACME.com')).toBe('alice@acme-dr.com');
    expect(id.address('ceo@acme.com')).toBe('boss@acme-dr.com');
    expect(id.address('admin@acme.com')).toBe('admin@acme-dr.com');
    expect(id.address('hans@acme.de')).toBe('hans@acme-dr.de');
    expect(id.address('partner@example.org')).toBe('partner@example.org');
    expect(id.domain('acme.com')).toBe('acme-dr.com');
    expect(id.reverse('boss@acme-dr.com')).toBe('ceo@acme.com');
    expect(id.reverse('alice@acme-dr.com')).toBe('alice@acme.com');
  });
});
