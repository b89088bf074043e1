import { ChangeRecord } from '../model/records.js';
import type { StoreContext } from './context.js';
import { getBlob } from './blobs.js';
import { BlobCorruptError, BlobMissingError, CorruptObjectError } from './errors.js';
import { readSegment } from './journal.js';
import type { LeaseManager } from './lease.js';
import { getJson } from './objects.js';
import { blobKey, BLOBS_PREFIX, CONFIG_KEY, KEYCHECK_KEY, LOCKS_PREFIX, META_PREFIX, parseBlobKey, parseRunKey, RUNS_PREFIX, STAGING_PREFIX } from './paths.js';
import type { ManifestReader } from './runs.js';
import type { CheckFinding, CheckReport, RunManifest } from './types.js';

/**
 * `norestore check`: verifies every invariant of docs/FORMAT.md ("Invariants"), reading only.
 * Errors make ok=false; warnings (orphans of crashed runs, stale locks, run-number gaps) do not.
 */

const READ_CONCURRENCY = 4;

interface CheckDeps {
  manifests: ManifestReader;
  leases: LeaseManager;
  readData: boolean;
}

function describe(m: RunManifest): string {
  return `run ${m.number} (${m.type}) of scope ${JSON.stringify(m.scope)} of source ${JSON.stringify(m.source)}`;
}

async function drain(ctx: StoreContext, sha: string): Promise<number> {
  const s = await getBlob(ctx, sha);
  let n = 0;
  for await (const c of s) n += (c as Buffer).length;
  return n;
}

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function runCheck(ctx: StoreContext, deps: CheckDeps): Promise<CheckReport> {
  const findings: CheckFinding[] = [];
  const error = (code: string, key: string, message: string): void => void findings.push({ severity: 'error', code, key, message });
  const warn = (code: string, key: string, message: string): void => void findings.push({ severity: 'warning', code, key, message });

  // 1. inventory: one listing of the whole repository
  const stored = new Map<string, number>(); // blob sha -> stored size
  const manifestKeys: string[] = [];
  const metaKeys: string[] = [];
  for await (const o of ctx.target.list('')) {
    if (o.key === CONFIG_KEY || o.key === KEYCHECK_KEY) continue;
    if (o.key.startsWith(BLOBS_PREFIX)) {
      const sha = parseBlobKey(o.key);
      if (sha === null) warn('orphan-object', o.key, `${o.key} is not a well-formed blob name (blobs/<2 hex>/<sha256>); it is ignored`);
      else stored.set(sha, o.size);
    } else if (o.key.startsWith(RUNS_PREFIX)) {
      if (parseRunKey(o.key) === null) warn('orphan-object', o.key, `${o.key} is not a run manifest name (runs/<source>/<scope>/<10 digits>); it is ignored`);
      else manifestKeys.push(o.key);
    } else if (o.key.startsWith(META_PREFIX)) {
      metaKeys.push(o.key);
    } else if (o.key.startsWith(STAGING_PREFIX)) {
      warn('orphan-object', o.key, `${o.key} is the staging object of an interrupted blob write; it is never read and can be deleted`);
    } else if (!o.key.startsWith(LOCKS_PREFIX)) {
      warn('orphan-object', o.key, `${o.key} is not part of the repository format; it is ignored`);
    }
  }

  const storedSize = (plain: number): number => (ctx.crypto === null ? plain : ctx.crypto.encryptedSize(plain));
  const referenced = new Set<string>();
  const corrupt = new Set<string>(); // reported once, not read again
  /** A blob a manifest needs: it must exist, and have the size its ref says when one is given. */
  const needBlob = (sha: string, size: number | undefined, code: string, where: string): void => {
    referenced.add(sha);
    const have = stored.get(sha);
    if (have === undefined) error(code, blobKey(sha), `${where} references blob ${sha}, which is missing`);
    else if (size !== undefined && have !== storedSize(size) && !corrupt.has(sha)) {
      corrupt.add(sha);
      error('corrupt-blob', blobKey(sha), `blob ${sha} is ${have} bytes stored, but ${where} records ${size} bytes of content (expected ${storedSize(size)} stored): it is truncated or damaged`);
    }
  };

  // 2. manifests: parse, names, per-scope order
  const scopes = new Map<string, RunManifest[]>();
  for (const key of manifestKeys) {
    let m: RunManifest;
    try {
      m = await deps.manifests.read(key, { fresh: true });
    } catch (err) {
      error('bad-manifest', key, err instanceof CorruptObjectError ? err.message : `${key}: ${(err as Error).message}`);
      continue;
    }
    const p = parseRunKey(key)!;
    if (p.sourceName !== ctx.names.encode(m.source) || p.scopeName !== ctx.names.encode(m.scope)) {
      error('bad-manifest', key, `${key} holds ${describe(m)}, which belongs under another name`);
      continue;
    }
    const dir = `${p.sourceName}/${p.scopeName}`;
    const list = scopes.get(dir) ?? [];
    list.push(m);
    scopes.set(dir, list);
  }

  // 3. per scope: run numbers, seq ranges, references, journal segments
  const segmentsToRead: Array<{ m: RunManifest; seg: RunManifest['segments'][number]; listed: Set<string> }> = [];
  for (const [dir, runs] of scopes) {
    runs.sort((a, b) => a.number - b.number);
    let expectNumber = 1;
    let exported = 0;
    for (const m of runs) {
      const key = `${RUNS_PREFIX}${dir}/${String(m.number).padStart(10, '0')}`;
      if (m.number > expectNumber) warn('run-gap', key, `scope ${JSON.stringify(m.scope)} of source ${JSON.stringify(m.source)}: run numbers ${expectNumber}..${m.number - 1} have no manifest (deleted?)`);
      expectNumber = m.number + 1;
      if (m.type === 'export') {
        if (m.seqFrom > exported + 1) error('seq-gap', key, `${describe(m)} starts at seq ${m.seqFrom}, but the journal before it ends at ${exported}: seqs ${exported + 1}..${m.seqFrom - 1} are missing`);
        else if (m.seqFrom < exported + 1) error('seq-overlap', key, `${describe(m)} starts at seq ${m.seqFrom}, but the journal before it already reaches ${exported}: seqs overlap`);
        if (m.seqTo < m.seqFrom - 1) error('bad-manifest', key, `${describe(m)} has seqTo ${m.seqTo} below seqFrom ${m.seqFrom} - 1`);
        let expectSeq = m.seqFrom;
        for (const seg of m.segments) {
          if (seg.seqFrom !== expectSeq || seg.seqTo < seg.seqFrom || seg.records !== seg.seqTo - seg.seqFrom + 1) {
            error('seq-gap', key, `${describe(m)}: segment ${seg.blob.sha256} covers seqs ${seg.seqFrom}..${seg.seqTo} (${seg.records} records) where seq ${expectSeq} comes next`);
          }
          expectSeq = seg.seqTo + 1;
          needBlob(seg.blob.sha256, seg.blob.size, 'missing-segment', describe(m));
          if (stored.has(seg.blob.sha256) && !corrupt.has(seg.blob.sha256)) segmentsToRead.push({ m, seg, listed: new Set(m.blobs) });
        }
        if (expectSeq !== m.seqTo + 1) error('seq-gap', key, `${describe(m)} claims seqs ${m.seqFrom}..${m.seqTo}, but its segments cover up to ${expectSeq - 1}`);
        exported = Math.max(exported, m.seqTo);
      } else {
        if (m.segments.length > 0) error('bad-manifest', key, `${describe(m)} lists journal segments; only export runs write the journal`);
        if (m.seqTo > exported) error('seq-ahead', key, `${describe(m)} covers seqs up to ${m.seqTo}, beyond the journal committed before it (${exported})`);
        if (m.seqFrom > m.seqTo + 1) error('bad-manifest', key, `${describe(m)} has seqFrom ${m.seqFrom} above seqTo ${m.seqTo} + 1`);
      }
      const listed = new Set(m.blobs);
      for (const sha of m.blobs) needBlob(sha, undefined, 'missing-blob', describe(m));
      for (const [what, ref] of [['document', m.document], ['id map', m.idMap]] as const) {
        if (ref === undefined) continue;
        needBlob(ref.sha256, ref.size, 'missing-blob', `${describe(m)} (${what})`);
        if (!listed.has(ref.sha256)) error('unlisted-blob', key, `${describe(m)}: its ${what} blob ${ref.sha256} is not in its blobs list`);
      }
    }
  }

  // 4. journal segments: every record parses, seqs are consecutive, record blobs exist and are listed
  let blobsRead = 0;
  for (const { m, seg, listed } of segmentsToRead) {
    const key = blobKey(seg.blob.sha256);
    let expect = seg.seqFrom;
    let count = 0;
    try {
      for await (const raw of readSegment(ctx, seg)) {
        count++;
        const r = ChangeRecord.safeParse(raw);
        if (!r.success) {
          const issue = r.error.issues[0]!;
          error('bad-segment', key, `journal segment ${seg.blob.sha256} of ${describe(m)}: record ${count}: field ${issue.path.join('.')}: ${issue.message}`);
          continue;
        }
        if (r.data.seq !== expect) error('seq-gap', key, `journal segment ${seg.blob.sha256} of ${describe(m)}: record ${count} has seq ${r.data.seq} where ${expect} comes next`);
        expect = r.data.seq + 1;
        for (const [name, ref] of Object.entries(r.data.blobs ?? {})) {
          needBlob(ref.sha256, ref.size, 'missing-blob', `${describe(m)} (record ${r.data.kind} ${r.data.id} seq ${r.data.seq}, blob ${name})`);
          if (!listed.has(ref.sha256)) error('unlisted-blob', key, `${describe(m)}: record ${r.data.kind} ${r.data.id} (seq ${r.data.seq}) references blob ${ref.sha256}, which is not in the run's blobs list`);
        }
      }
      blobsRead++;
      if (count !== seg.records) error('seq-gap', key, `journal segment ${seg.blob.sha256} of ${describe(m)} holds ${count} records, its manifest says ${seg.records}`);
    } catch (err) {
      error('corrupt-blob', key, err instanceof BlobCorruptError || err instanceof CorruptObjectError ? err.message : `journal segment ${seg.blob.sha256}: ${(err as Error).message}`);
    }
  }

  // 5. --read-data: every referenced blob rehashes to its name
  if (deps.readData) {
    const segmentShas = new Set(segmentsToRead.map((s) => s.seg.blob.sha256));
    const toRead = [...referenced].filter((sha) => stored.has(sha) && !segmentShas.has(sha) && !corrupt.has(sha));
    await pool(toRead, READ_CONCURRENCY, async (sha) => {
      try {
        await drain(ctx, sha);
        blobsRead++;
      } catch (err) {
        if (err instanceof BlobMissingError) error('missing-blob', blobKey(sha), err.message);
        else error('corrupt-blob', blobKey(sha), err instanceof BlobCorruptError ? err.message : `blob ${sha}: ${(err as Error).message}`);
      }
    });
  }

  // 6. orphans: leftovers of interrupted runs (harmless; a future prune removes them)
  for (const sha of stored.keys()) {
    if (!referenced.has(sha)) warn('orphan-blob', blobKey(sha), `blob ${sha} is referenced by no committed run (left by an interrupted or aborted run)`);
  }

  // 7. locks and meta documents
  for (const l of await deps.leases.locks(LOCKS_PREFIX)) {
    if (l.stale) warn('stale-lock', l.key, `lock ${l.key}${l.record !== null ? ` of ${l.record.holder} (host ${l.record.host}, pid ${l.record.pid})` : ''} is stale: ${l.reason}; the next run on that scope removes it`);
  }
  for (const key of metaKeys) {
    try {
      await getJson(ctx, key);
    } catch (err) {
      error('bad-meta', key, (err as Error).message);
    }
  }

  const order = (f: CheckFinding): number => (f.severity === 'error' ? 0 : 1);
  findings.sort((a, b) => order(a) - order(b));
  return {
    ok: !findings.some((f) => f.severity === 'error'),
    manifests: manifestKeys.length,
    blobsReferenced: referenced.size,
    blobsRead,
    findings,
  };
}
