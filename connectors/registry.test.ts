import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectorFactories } from './index.js';

describe('connector registry', () => {
  it('lists exactly the connector folders', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const folders = (await readdir(here, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(Object.keys(connectorFactories).sort()).toEqual(folders);
  });

  it('every factory is a function', () => {
    for (const [name, factory] of Object.entries(connectorFactories)) expect(typeof factory, name).toBe('function');
  });
});
