import { describe, expect, it } from 'vitest';
import { DriveState, type DFile } from './drive-state.js';
import { parseDriveQuery } from './drive-query.js';

const d = new DriveState('acme.test', () => '2024-01-01T00:00:00.000Z', () => false, () => ['a@acme.test']);
d.roots.set('a@acme.test', 'ROOT');
const file = (over: Partial<DFile>): DFile => ({
  id: 'f', name: "Budget 'Q3'", mimeType: 'application/pdf', parents: ['ROOT'], owner: 'a@acme.test', createdTime: '2024-01-01T00:00:00.000Z', modifiedTime: '2024-02-01T00:00:00.000Z',
  version: 1, trashed: false, appProperties: { src: 'x1' }, properties: {}, starred: false, permissions: [], lastModifyingUser: 'a@acme.test', seenBy: new Set(), ...over,
});

describe('drive query', () => {
  const f = file({});
  const t = (q: string, x = f) => parseDriveQuery(q)(x, 'a@acme.test', d);
  it('evaluates the served subset', () => {
    expect(t("'root' in parents and trashed = false")).toBe(true);
    expect(t("name = 'Budget \\'Q3\\''")).toBe(true);
    expect(t("name contains 'budget' and not mimeType = 'application/vnd.google-apps.folder'")).toBe(true);
    expect(t("appProperties has { key='src' and value='x1' }")).toBe(true);
    expect(t("appProperties has { key='src' and value='x2' } or 'me' in owners")).toBe(true);
    expect(t("modifiedTime > '2024-01-15T00:00:00Z' and (starred = true or trashed = true)")).toBe(false);
  });
  it('refuses what it does not serve, naming it', () => {
    expect(() => parseDriveQuery("fullText contains 'x'")).toThrow(/does not search by fullText/);
    expect(() => parseDriveQuery("name = 'x")).toThrow(/unterminated/);
  });
});
