/**
 * Git on disk for the emulator: bare repositories under one root, smart HTTP through the real
 * `git http-backend` CGI, and small plumbing helpers (refs, fast-import, merges).
 *
 * Each repository is `<root>/r<id>.git` (its wiki `<root>/r<id>.wiki.git`), so renames never move
 * directories. `receive.hideRefs = refs/pull` makes receive-pack refuse pushes to refs/pull/*
 * ("deny updating a hidden ref") while upload-pack still advertises them, as on GitHub. A shared
 * `update` hook refuses deleting the default branch.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitRefs } from './state.js';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

export interface GitIdent {
  name: string;
  email: string;
  /** epoch ms */
  at: number;
}

function identLine(kind: 'author' | 'committer' | 'tagger', p: GitIdent): string {
  return `${kind} ${p.name} <${p.email}> ${Math.floor(p.at / 1000)} +0000\n`;
}

export class GitError extends Error {
  constructor(message: string, readonly stderr: string, readonly code: number | null) {
    super(message);
  }
}

export class GitHost {
  readonly root: string;
  readonly hooksDir: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(root: string) {
    this.root = root;
    this.hooksDir = join(root, '_hooks');
    this.env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: join(root, '_gitconfig'),
      GIT_TERMINAL_PROMPT: '0',
      LANG: 'C',
    };
  }

  async setup(): Promise<void> {
    await mkdir(this.hooksDir, { recursive: true });
    await writeFile(join(this.root, '_gitconfig'), '');
    const update = [
      '#!/bin/sh',
      '# Refuse deleting the default branch, as GitHub does.',
      'head=$(git symbolic-ref -q HEAD)',
      'if [ "$1" = "$head" ] && [ "$3" = "0000000000000000000000000000000000000000" ]; then',
      '  echo "refusing to delete the current branch: $1" >&2',
      '  exit 1',
      'fi',
      'exit 0',
      '',
    ].join('\n');
    await writeFile(join(this.hooksDir, 'update'), update);
    await chmod(join(this.hooksDir, 'update'), 0o755);
  }

  dir(repoId: number, wiki = false): string {
    return join(this.root, `r${repoId}${wiki ? '.wiki' : ''}.git`);
  }

  /** PATH_INFO prefix for the CGI. */
  pathInfo(repoId: number, wiki = false): string {
    return `/r${repoId}${wiki ? '.wiki' : ''}.git`;
  }

  run(dir: string | null, args: string[], input?: string | Buffer, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const full = dir ? ['--git-dir', dir, ...args] : args;
      const cp = spawn('git', full, { env: { ...this.env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      cp.stdout.on('data', (d: Buffer) => out.push(d));
      cp.stderr.on('data', (d: Buffer) => err.push(d));
      cp.on('error', reject);
      cp.on('close', (code) => {
        const stdout = Buffer.concat(out).toString('utf8');
        if (code === 0) resolve(stdout);
        else {
          const stderr = Buffer.concat(err).toString('utf8');
          reject(new GitError(`git ${args[0] ?? ''} failed (${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`, stderr, code));
        }
      });
      cp.stdin.on('error', () => undefined);
      if (input !== undefined) cp.stdin.end(input);
      else cp.stdin.end();
    });
  }

  /**
   * Create a bare repository by writing git's repository layout directly (HEAD, config, objects,
   * refs): the same result as `git init --bare`, without a process per repository.
   */
  async initBare(dir: string, head: string): Promise<void> {
    for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info']) await mkdir(join(dir, sub), { recursive: true });
    await Promise.all([writeFile(join(dir, 'HEAD'), `ref: refs/heads/${head}\n`), writeFile(join(dir, 'config'), this.serverConfig())]);
  }

  /**
   * A bare repository that borrows its objects from another through `objects/info/alternates`
   * (as GitHub's fork networks share objects), with the given refs packed: a handful of small
   * files per repository, so a large seeded org is quick to create.
   */
  async initShared(dir: string, head: string, objectsDir: string, refs: [string, string][]): Promise<void> {
    for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) await mkdir(join(dir, sub), { recursive: true });
    const packed = ['# pack-refs with: peeled fully-peeled sorted ', ...[...refs].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([r, sha]) => `${sha} ${r}`), ''].join('\n');
    await Promise.all([
      writeFile(join(dir, 'HEAD'), `ref: refs/heads/${head}\n`),
      writeFile(join(dir, 'config'), this.serverConfig()),
      writeFile(join(dir, 'objects/info/alternates'), `${objectsDir}\n`),
      writeFile(join(dir, 'packed-refs'), packed),
    ]);
  }

  /** The config every hosted repository carries. */
  serverConfig(): string {
    return [
      '[core]', '\trepositoryformatversion = 0', '\tfilemode = true', '\tbare = true', `\thooksPath = ${this.hooksDir}`,
      '[http]', '\treceivepack = true', '\tuploadpack = true',
      '[receive]', '\thideRefs = refs/pull', '\tdenyNonFastForwards = false',
      '[uploadpack]', '\tallowFilter = true', '',
    ].join('\n');
  }

  async removeRepo(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  async readRefs(dir: string): Promise<GitRefs> {
    const refs: GitRefs = { branches: new Map(), tags: new Map(), tagCommits: new Map(), head: 'main' };
    const out = await this.run(dir, ['for-each-ref', '--format=%(objectname) %(objecttype) %(refname) %(*objectname)', 'refs/heads', 'refs/tags']);
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [sha, , ref, peeled] = line.split(' ');
      if (!sha || !ref) continue;
      if (ref.startsWith('refs/heads/')) refs.branches.set(ref.slice(11), sha);
      else if (ref.startsWith('refs/tags/')) {
        const name = ref.slice(10);
        refs.tags.set(name, sha);
        refs.tagCommits.set(name, peeled && peeled.length === 40 ? peeled : sha);
      }
    }
    const head = await readFile(join(dir, 'HEAD'), 'utf8').catch(() => 'ref: refs/heads/main');
    refs.head = head.trim().replace(/^ref:\s*/, '').replace(/^refs\/heads\//, '');
    return refs;
  }

  async pullRefs(dir: string): Promise<Map<string, string>> {
    const out = await this.run(dir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/pull']);
    const m = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [sha, ref] = line.split(' ');
      if (sha && ref) m.set(ref, sha);
    }
    return m;
  }

  async setHead(dir: string, branch: string): Promise<void> {
    await writeFile(join(dir, 'HEAD'), `ref: refs/heads/${branch}\n`);
  }

  async updateRef(dir: string, ref: string, sha: string): Promise<void> {
    await this.run(dir, ['update-ref', ref, sha]);
  }

  /** Set many refs in one process. */
  async updateRefs(dir: string, refs: [string, string][]): Promise<void> {
    if (refs.length === 0) return;
    await this.run(dir, ['update-ref', '--stdin'], refs.map(([r, sha]) => `update ${r} ${sha}\n`).join(''));
  }

  async deleteRef(dir: string, ref: string): Promise<void> {
    await this.run(dir, ['update-ref', '-d', ref]);
  }

  async objectType(dir: string, sha: string): Promise<string | null> {
    try {
      return (await this.run(dir, ['cat-file', '-t', sha])).trim();
    } catch {
      return null;
    }
  }

  async resolve(dir: string, rev: string): Promise<string | null> {
    try {
      return (await this.run(dir, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  /** Commits in head not in base, and the diff stat between their merge base and head. */
  async compare(dir: string, base: string, head: string): Promise<{ commits: number; additions: number; deletions: number; changedFiles: number; files: string[] }> {
    const count = Number((await this.run(dir, ['rev-list', '--count', `${base}..${head}`])).trim());
    if (count === 0) return { commits: 0, additions: 0, deletions: 0, changedFiles: 0, files: [] };
    const numstat = await this.run(dir, ['diff', '--numstat', `${base}...${head}`]);
    let additions = 0;
    let deletions = 0;
    const files: string[] = [];
    for (const line of numstat.split('\n')) {
      const [a, d, f] = line.split('\t');
      if (f === undefined) continue;
      additions += Number(a) || 0;
      deletions += Number(d) || 0;
      files.push(f);
    }
    return { commits: count, additions, deletions, changedFiles: files.length, files };
  }

  /** A real merge commit of head into base (fails on conflicts). Returns the new commit sha. */
  async mergeCommit(dir: string, baseSha: string, headSha: string, message: string, who: GitIdent): Promise<string> {
    const tree = (await this.run(dir, ['merge-tree', '--write-tree', baseSha, headSha])).trim().split('\n')[0] ?? '';
    const date = `${Math.floor(who.at / 1000)} +0000`;
    const env = {
      GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email, GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: who.name, GIT_COMMITTER_EMAIL: who.email, GIT_COMMITTER_DATE: date,
    };
    return (await this.run(dir, ['commit-tree', tree, '-p', baseSha, '-p', headSha, '-m', message], undefined, env)).trim();
  }

  /** Size of the object store in KiB (as the `size` of a repository). */
  async sizeKb(dir: string): Promise<number> {
    let bytes = 0;
    const walk = async (d: string): Promise<void> => {
      const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else bytes += (await stat(p).catch(() => ({ size: 0 }))).size;
      }
    };
    await walk(join(dir, 'objects'));
    return Math.ceil(bytes / 1024);
  }

  /**
   * Serve one smart-HTTP request through `git http-backend`. `afterReceive` runs after a
   * receive-pack finished and before the response ends, so a client that pushed sees the REST
   * view updated once its push returns.
   */
  serveHttp(
    req: IncomingMessage,
    res: ServerResponse,
    opts: { pathInfo: string; query: string; remoteUser: string | null; afterReceive?: () => Promise<void> },
  ): Promise<void> {
    return new Promise((resolve) => {
      const env: NodeJS.ProcessEnv = {
        ...this.env,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
        PATH_INFO: opts.pathInfo,
        REQUEST_METHOD: req.method ?? 'GET',
        QUERY_STRING: opts.query,
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
        SERVER_PROTOCOL: 'HTTP/1.1',
        GATEWAY_INTERFACE: 'CGI/1.1',
      };
      if (opts.remoteUser) env.REMOTE_USER = opts.remoteUser;
      if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
      if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
      const proto = req.headers['git-protocol'];
      if (proto) env.GIT_PROTOCOL = String(proto);
      const isReceive = opts.pathInfo.endsWith('/git-receive-pack');
      const cp = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      req.pipe(cp.stdin);
      cp.stdin.on('error', () => undefined);
      cp.stderr.on('data', () => undefined);
      let headerBuf = Buffer.alloc(0);
      let headersDone = false;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        resolve();
      };
      cp.stdout.on('data', (chunk: Buffer) => {
        if (headersDone) {
          res.write(chunk);
          return;
        }
        headerBuf = Buffer.concat([headerBuf, chunk]);
        let end = headerBuf.indexOf('\r\n\r\n');
        let sepLen = 4;
        if (end < 0) {
          end = headerBuf.indexOf('\n\n');
          sepLen = 2;
        }
        if (end < 0) return;
        const head = headerBuf.subarray(0, end).toString('latin1');
        const rest = headerBuf.subarray(end + sepLen);
        headersDone = true;
        let status = 200;
        for (const line of head.split(/\r?\n/)) {
          const i = line.indexOf(':');
          if (i < 0) continue;
          const k = line.slice(0, i).trim();
          const v = line.slice(i + 1).trim();
          if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10) || 200;
          else res.setHeader(k, v);
        }
        res.statusCode = status;
        if (rest.length) res.write(rest);
      });
      cp.on('error', () => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end('git http-backend could not start\n');
        } else res.destroy();
        finish();
      });
      cp.on('close', (code) => {
        void (async () => {
          if (!headersDone) {
            if (!res.headersSent) {
              res.statusCode = 500;
              res.setHeader('content-type', 'text/plain');
              res.end(`git http-backend failed (${code})\n`);
            }
            finish();
            return;
          }
          if (isReceive && opts.afterReceive) {
            try {
              await opts.afterReceive();
            } catch {
              // the REST view refreshes again on the next push or request
            }
          }
          res.end();
          finish();
        })();
      });
    });
  }
}

/** Files and commits for `git fast-import`, then marks resolved to shas. */
export class FastImport {
  private readonly parts: Buffer[] = [];
  private mark = 0;

  private push(s: string | Buffer): void {
    this.parts.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
  }

  private data(content: string | Buffer): void {
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    this.push(`data ${buf.length}\n`);
    this.push(buf);
    this.push('\n');
  }

  /** Add a commit; `from` is a mark (number) or a sha; returns the commit's mark. */
  commit(c: {
    ref: string;
    message: string;
    author: GitIdent;
    committer?: GitIdent;
    from?: number | string;
    merge?: (number | string)[];
    files?: { path: string; content: string | Buffer }[];
    deletes?: string[];
  }): number {
    const m = ++this.mark;
    this.push(`commit ${c.ref}\nmark :${m}\n`);
    this.push(identLine('author', c.author));
    this.push(identLine('committer', c.committer ?? c.author));
    this.data(c.message);
    const ref = (x: number | string) => (typeof x === 'number' ? `:${x}` : x);
    if (c.from !== undefined) this.push(`from ${ref(c.from)}\n`);
    for (const mg of c.merge ?? []) this.push(`merge ${ref(mg)}\n`);
    for (const d of c.deletes ?? []) this.push(`D ${d}\n`);
    for (const f of c.files ?? []) {
      this.push(`M 100644 inline ${f.path}\n`);
      this.data(f.content);
    }
    this.push('\n');
    return m;
  }

  /** Point a ref at a mark or sha. */
  reset(ref: string, from: number | string): void {
    this.push(`reset ${ref}\nfrom ${typeof from === 'number' ? `:${from}` : from}\n\n`);
  }

  /** Annotated tag. */
  tag(name: string, from: number | string, message: string, tagger: GitIdent): void {
    this.push(`tag ${name}\nfrom ${typeof from === 'number' ? `:${from}` : from}\n`);
    this.push(identLine('tagger', tagger));
    this.data(message);
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }

  /** Run against a bare repository; returns mark -> sha. */
  async run(git: GitHost, dir: string): Promise<Map<number, string>> {
    const marksFile = join(dir, `fast-import-marks-${process.pid}-${Date.now()}`);
    await git.run(dir, ['fast-import', '--quiet', '--force', `--export-marks=${marksFile}`], Buffer.concat(this.parts));
    const marks = new Map<number, string>();
    const text = await readFile(marksFile, 'utf8');
    for (const line of text.split('\n')) {
      const m = /^:(\d+) ([0-9a-f]{40})$/.exec(line.trim());
      if (m) marks.set(Number(m[1]), m[2] as string);
    }
    await rm(marksFile, { force: true });
    return marks;
  }
}
