import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile, copyFile } from 'node:fs/promises';
import YAML from 'yaml';
import type { Repository } from '../store/types.js';

/**
 * Replication direction of a source. After a failover the standby is the new primary: the config's
 * source and standby are swapped (the config says so), and the storage keys the new direction's
 * journal under a new generation so that its RPO and proofs are never mixed with the old direction.
 */
export interface DirectionState {
  /** 0 before any failover; +1 per failover or failback. */
  generation: number;
  /** Which configured tenant is production now, relative to the ORIGINAL config. */
  active: 'primary' | 'standby';
  history: Array<{ at: string; direction: 'failover' | 'failback'; generation: number; from: string; to: string }>;
}

const INITIAL: DirectionState = { generation: 0, active: 'primary', history: [] };

const metaName = (source: string): string => `direction-${source}`;

export async function directionOf(repo: Repository, source: string): Promise<DirectionState> {
  return (await repo.getMeta<DirectionState>(metaName(source))) ?? INITIAL;
}

export async function saveDirection(repo: Repository, source: string, state: DirectionState): Promise<void> {
  await repo.putMeta(metaName(source), state);
}

/** The name the storage keys a source's runs by, for its current generation. */
export function storageSourceKey(source: string, state: DirectionState): string {
  return state.generation === 0 ? source : `${source}.g${state.generation}`;
}

/**
 * Swap `source` and `standby` of one source in the YAML config file (and reverse its identity maps),
 * keeping comments and layout, atomically (temp file + rename), with a backup beside it. Returns the
 * backup path.
 */
export async function swapConfigDirection(configPath: string, sourceName: string, note: string): Promise<string> {
  const text = await readFile(configPath, 'utf8');
  const doc = YAML.parseDocument(text);
  const sources = doc.get('sources');
  if (!YAML.isSeq(sources)) throw new Error(`${configPath}: sources is not a list`);
  const item = sources.items.find((s) => YAML.isMap(s) && s.get('name') === sourceName);
  if (!item || !YAML.isMap(item)) throw new Error(`${configPath}: no source named ${sourceName}`);
  const source = item.get('source', true);
  const standby = item.get('standby', true);
  item.set('source', standby);
  item.set('standby', source);
  // Identity maps go source -> standby: reversed with the direction (a map that is not one-to-one
  // cannot be reversed without losing a user: refused, the config left as it was).
  const identity = item.get('identity', true);
  if (YAML.isMap(identity)) {
    for (const field of ['users', 'domains']) {
      const m = identity.get(field, true);
      if (!YAML.isMap(m)) continue;
      const pairs = m.items.map((p) => [String(YAML.isScalar(p.key) ? p.key.value : p.key), String(YAML.isScalar(p.value) ? p.value.value : p.value)] as const);
      const targets = new Set(pairs.map(([, v]) => v));
      if (targets.size !== pairs.length) throw new Error(`${configPath}: ${sourceName}.identity.${field} maps two names to the same one: it cannot be reversed for the failover; make it one-to-one`);
      identity.set(field, doc.createNode(Object.fromEntries(pairs.map(([k, v]) => [v, k]))));
    }
  }
  item.commentBefore = [item.commentBefore, ` ${note}`].filter(Boolean).join('\n');
  const backup = `${configPath}.${new Date().toISOString().replace(/[:.]/g, '-')}.bak`;
  await copyFile(configPath, backup);
  const tmp = `${configPath}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, doc.toString());
  await rename(tmp, configPath);
  return backup;
}
