import { describe, expect, it } from 'vitest';
import { loadDiscovery, methodTableFromDiscovery } from './discovery.test-helpers.js';
import { METHODS } from './methods.js';

describe('discovery documents', () => {
  it('the served method table equals the discovery documents (paths, verbs, scopes, upload limits)', () => {
    const expected = methodTableFromDiscovery(METHODS.map((m) => m.id));
    expect(METHODS.map((m) => ({ ...m, scopes: [...m.scopes] }))).toEqual(expected);
  });
  it('the validator catches wrong types, enums and missing required request fields', () => {
    const cal = loadDiscovery('calendar-v3');
    expect(cal.validate('Event', { id: 'x', status: 'confirmed', sequence: 1 })).toEqual([]);
    expect(cal.validate('Event', { sequence: '1' })).toEqual(['$.sequence: expected integer, got "1"']);
    expect(cal.validate('Event', { bogus: 1 })[0]).toMatch(/not a property/);
    expect(cal.validateRequest('calendar.events.import', { summary: 'x' })).toEqual(expect.arrayContaining(['$.start: required by calendar.events.import', '$.iCalUID: required by calendar.events.import']));
    const drive = loadDiscovery('drive-v3');
    expect(drive.validate('File', { size: 'abc' })[0]).toMatch(/integer string/);
  });
});
