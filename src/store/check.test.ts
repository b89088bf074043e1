import { describe, expect, it } from 'vitest';
import type { CheckFinding, Repository } from './types.js';
import { MemoryTarget } from './memory-target.js';
import { readAll } from './objects.js';
import { initRepository } from './repository.js';

/** A repository with two committed export runs (several segments, content blobs), an import and a verify. */
async function sample(): Promise<{ target: MemoryTarget; repo: Repository }> {
  const target = new MemoryTarget();
  const repo = await initRepository(target, { segmentBytes: 250 });
  const lease = await repo.acquireLease('github', 'acme/api');
  for (let run = 1; run <= 2; run++) {
    const w = await repo.beginRun(lease, 'export');
    for (let i = 0; i < 4; i++) {
      const body = await w.putBlob(Buffer.from(`body ${run}.${i}`), 'text/plain');
      await w.append([{ kind: 'issue', id: `${i}`, op: 'upsert', version: `${run}`, sourceTime: 't', blobs: { body } }]);
    }
    await w.commit({ cursor: { run } });
  }
  const imp = await repo.beginRun(lease, 'import');
  await imp.commit({ idMap: { issue: { '1': { standbyId: 'x', version: '2' } } }, seqFrom: 0, seqTo: 8 });
  const v = await repo.beginRun(lease, 'verify');
  await v.commit({ document: { ok: true }, seqFrom: 0, seqTo: 8 });
  await lease.release();
  return { target, repo };
}

function codes(findings: CheckFinding[], severity: 'error' | 'warning'): string[] {
  return [...new Set(findings.filter((f) => f.severity === severity).map((f) => f.code))].sort();
}

async function manifest(target: MemoryTarget, n: number): Promise<{ key: string; doc: Record<string, unknown> }> {
  const key = [...target.objects.keys()].filter((k) => k.startsWith('runs/')).sort()[n - 1]!;
  return { key, doc: JSON.parse((await readAll(await target.get(key))).toString()) as Record<string, unknown> };
}

describe('check', () => {
  it('passes a sound repository and counts what it read', async () => {
    const { repo } = await sample();
    const quick = await repo.check();
    expect(quick).toMatchObject({ ok: true, manifests: 4, findings: [] });
    const full = await repo.check({ readData: true });
    expect(full.ok).toBe(true);
    expect(full.blobsRead).toBe(full.blobsReferenced);
    expect(full.blobsReferenced).toBeGreaterThan(8 + 2);
  });

  it('reports a missing blob and a missing segment', async () => {
    const { target, repo } = await sample();
    const m1 = (await manifest(target, 1)).doc as { blobs: string[]; segments: Array<{ blob: { sha256: string } }> };
    const blob = m1.blobs[0]!;
    const seg = m1.segments[1]!.blob.sha256;
    await target.delete(`blobs/${blob.slice(0, 2)}/${blob}`);
    await target.delete(`blobs/${seg.slice(0, 2)}/${seg}`);
    const r = await repo.check();
    expect(r.ok).toBe(false);
    expect(codes(r.findings, 'error')).toEqual(['missing-blob', 'missing-segment']);
    expect(r.findings.find((f) => f.code === 'missing-blob')!.message).toMatch(/run 1 \(export\) of scope "acme\/api" of source "github".* references blob [0-9a-f]{64}, which is missing/);
  });

  it('reports a truncated blob without reading data, a same-size corruption only with it', async () => {
    const { target, repo } = await sample();
    const m2 = (await manifest(target, 2)).doc as { blobs: string[] };
    const [a, b] = m2.blobs as [string, string];
    const ka = `blobs/${a.slice(0, 2)}/${a}`;
    const kb = `blobs/${b.slice(0, 2)}/${b}`;
    await target.put(ka, (await readAll(await target.get(ka))).subarray(1));
    const flipped = Buffer.from(await readAll(await target.get(kb)));
    flipped[0] = flipped[0]! ^ 1;
    await target.put(kb, flipped);
    const quick = await repo.check();
    expect(quick.findings.filter((f) => f.severity === 'error').map((f) => f.key)).toEqual([ka]);
    const full = await repo.check({ readData: true });
    expect(full.findings.filter((f) => f.code === 'corrupt-blob').map((f) => f.key).sort()).toEqual([ka, kb].sort());
  });

  it('reports an unreadable manifest and one of a newer format version', async () => {
    const { target, repo } = await sample();
    const { key: k3 } = await manifest(target, 3);
    const { key: k4, doc } = await manifest(target, 4);
    await target.put(k3, Buffer.from('{"formatVersion": 1, "truncated'));
    await target.put(k4, Buffer.from(JSON.stringify({ ...doc, formatVersion: 2 })));
    const r = await repo.check();
    expect(r.ok).toBe(false);
    const bad = r.findings.filter((f) => f.code === 'bad-manifest');
    expect(bad.map((f) => f.key).sort()).toEqual([k3, k4]);
    expect(bad.find((f) => f.key === k4)!.message).toMatch(/manifest format 2 is newer than this norestore understands \(1\): upgrade norestore/);
    expect(bad.find((f) => f.key === k3)!.message).toMatch(/not valid JSON/);
  });

  it('reports overlapping and missing seq ranges, and import runs ahead of the journal', async () => {
    const { target, repo } = await sample();
    const { doc: d2 } = await manifest(target, 2);
    const { key: k1 } = await manifest(target, 1);
    const dir = k1.slice(0, k1.lastIndexOf('/'));
    // run 5 repeats run 2's records (a duplicate commit)
    await target.put(`${dir}/0000000005`, Buffer.from(JSON.stringify({ ...d2, number: 5 })));
    // run 6 is an import claiming seqs never exported
    const { doc: d3 } = await manifest(target, 3);
    await target.put(`${dir}/0000000006`, Buffer.from(JSON.stringify({ ...d3, number: 6, seqTo: 99 })));
    const r = await repo.check();
    expect(codes(r.findings, 'error')).toEqual(['seq-ahead', 'seq-overlap']);
    // without run 1, run 2 starts after a gap
    await target.delete(k1);
    await target.delete(`${dir}/0000000005`);
    await target.delete(`${dir}/0000000006`);
    const r2 = await repo.check();
    expect(codes(r2.findings, 'error')).toEqual(['seq-gap']);
    expect(codes(r2.findings, 'warning')).toEqual(['orphan-blob', 'run-gap']);
  });

  it('reports a record whose blob is not listed by its run, and a manifest filed under the wrong scope', async () => {
    const { target, repo } = await sample();
    const { key, doc } = await manifest(target, 1);
    await target.put(key, Buffer.from(JSON.stringify({ ...doc, blobs: [] })));
    await target.put('runs/github/acme=2Fweb/0000000001', Buffer.from(JSON.stringify((await manifest(target, 2)).doc)));
    const r = await repo.check();
    expect(codes(r.findings, 'error')).toEqual(['bad-manifest', 'unlisted-blob']);
  });

  it('warns about orphans, unknown objects and stale locks without failing', async () => {
    const { target, repo } = await sample();
    await repo.putBlob(Buffer.from('left by a crashed run'));
    await target.put('runs/github/acme=2Fapi/notes.txt', Buffer.from('x'));
    await target.put('stray', Buffer.from('x'));
    await target.put('locks/github/acme=2Fapi/ffff', Buffer.from(JSON.stringify({ token: 'ffff', host: 'h', pid: 1, holder: 'old', expiresAt: new Date(0).toISOString() })));
    await target.put('meta/broken', Buffer.from('{not json'));
    const r = await repo.check();
    expect(codes(r.findings, 'warning')).toEqual(['orphan-blob', 'orphan-object', 'stale-lock']);
    expect(codes(r.findings, 'error')).toEqual(['bad-meta']);
    await target.delete('meta/broken');
    expect((await repo.check()).ok).toBe(true);
  });
});
