/**
 * OneDrive (a user's business drive): items by id or by path (`root:/a/b:`, `items/{id}:/name:`),
 * children, root delta (`token=latest`, deleted facets, 410 `resyncRequired` with a Location to
 * start over on an expired token), content download (302 to a pre-authenticated URL that honours
 * Range), simple upload (`PUT ...:/name:/content`), upload sessions (createUploadSession with
 * item conflictBehavior and fileSystemInfo), folder creation, rename/move/fileSystemInfo by PATCH,
 * delete.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type * as MSGraph from '@microsoft/microsoft-graph-types';
import { type ApiRequest, type ApiResponse, type DeltaEntry, GraphApiError, badRequest, created, deltaPage, jsonBody, listPage, noContent, ok } from './http.js';
import { QuickXorHash, quickXorBase64 } from './quickxor.js';
import { type Content, type DriveItemState, type DriveState, type TenantState, contentSize, contentStream } from './state.js';
import type { UploadSessions } from './uploads.js';

const SIMPLE_UPLOAD_MAX = 250 * 1024 * 1024;
const MEMORY_MAX = 4 * 1024 * 1024;

const MIME: Record<string, string> = {
  txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', html: 'text/html', json: 'application/json', pdf: 'application/pdf', png: 'image/png',
  jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', zip: 'application/zip', bin: 'application/octet-stream',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export function mimeTypeOf(name: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  return MIME[ext] ?? 'application/octet-stream';
}

const INVALID_NAME = /["*:<>?/\\|]|^\s|\s$|^\.+$/;

function checkName(name: string): void {
  if (!name || INVALID_NAME.test(name) || name.length > 400) throw badRequest(`The name "${name}" contains invalid characters or is not valid for a OneDrive item.`, 'invalidRequest');
}

interface DriveAddress {
  drive: DriveState;
  /** The base item (root or items/{id}) */
  base: DriveItemState;
  /** Path relative to the base item, decoded segments (empty when none) */
  path: string[];
  action: '' | 'children' | 'content' | 'createUploadSession' | 'delta';
}

export class DriveService {
  private downloads = new Map<string, { driveId: string; itemId: string; contentVersion: number; expires: number }>();

  constructor(
    private readonly t: TenantState,
    private readonly uploads: UploadSessions,
    private readonly dataDir: string,
  ) {}

  /** Parse /users/{u}/drive..., /drives/{d}... (null when the path is not a drive path). */
  resolve(path: string): { drive: DriveState; rest: string } | null {
    const m = /^\/(?:users\/([^/]+)\/drive|drives\/([^/]+))(\/.*)?$/i.exec(path);
    if (!m) return null;
    let drive: DriveState | undefined;
    if (m[1] !== undefined) {
      const u = this.t.user(decodeURIComponent(m[1]));
      if (!u) throw new GraphApiError(404, 'ResourceNotFound', `User not found: ${decodeURIComponent(m[1])}`);
      drive = u.drive;
    } else {
      drive = this.t.driveOf(decodeURIComponent(m[2] as string));
      if (!drive) throw new GraphApiError(404, 'itemNotFound', 'The drive was not found.');
    }
    return { drive, rest: m[3] ?? '' };
  }

  private address(drive: DriveState, rest: string): DriveAddress {
    const m = /^\/(root|items\/([^/:]+))(.*)$/i.exec(rest);
    if (!m) throw new GraphApiError(400, 'invalidRequest', `Unsupported drive path ${rest}`);
    const base = m[1]?.toLowerCase() === 'root' ? drive.items.get(drive.rootId) : drive.items.get(decodeURIComponent(m[2] as string));
    if (!base) throw new GraphApiError(404, 'itemNotFound', 'The resource could not be found.');
    let tail = m[3] ?? '';
    let path: string[] = [];
    if (tail.startsWith(':')) {
      const pm = /^:\/?([^:]*):?(\/.*)?$/.exec(tail);
      if (!pm) throw new GraphApiError(400, 'invalidRequest', `Malformed path-based address ${tail}`);
      path = (pm[1] ?? '').split('/').filter(Boolean).map(decodeURIComponent);
      tail = pm[2] ?? '';
    }
    const action = tail.replace(/^\//, '');
    if (!['', 'children', 'content', 'createUploadSession', 'delta'].includes(action)) throw new GraphApiError(400, 'invalidRequest', `Unsupported drive action ${action}`);
    return { drive, base, path, action: action as DriveAddress['action'] };
  }

  private walk(a: DriveAddress): DriveItemState | undefined {
    let cur: DriveItemState | undefined = a.base;
    for (const seg of a.path) {
      if (!cur) return undefined;
      cur = this.t.childByName(a.drive, cur.id, seg);
    }
    return cur;
  }

  private parentAndName(a: DriveAddress): { parent: DriveItemState; name: string } {
    if (!a.path.length) throw new GraphApiError(400, 'invalidRequest', 'A path-based address with a file name is required.');
    const parent = this.walk({ ...a, path: a.path.slice(0, -1) });
    if (!parent || !parent.isFolder) throw new GraphApiError(404, 'itemNotFound', 'The parent folder does not exist.');
    const name = a.path[a.path.length - 1] as string;
    checkName(name);
    return { parent, name };
  }

  render(req: ApiRequest, d: DriveState, it: DriveItemState, opts: { withPath?: boolean; withDownload?: boolean } = {}): MSGraph.DriveItem & Record<string, unknown> {
    const owner = [...this.t.users.values()].find((u) => u.id === d.ownerId);
    const who = { user: { id: d.ownerId, displayName: owner?.displayName ?? 'Owner', email: owner?.mail } };
    const out: MSGraph.DriveItem & Record<string, unknown> = {
      '@odata.etag': `"{${it.id}},${it.version}"`,
      id: it.id,
      name: it.name,
      eTag: `"{${it.id}},${it.version}"`,
      cTag: `"c:{${it.id}},${it.contentVersion}"`,
      createdDateTime: it.createdDateTime,
      lastModifiedDateTime: it.lastModifiedDateTime,
      size: it.isFolder ? this.folderSize(d, it.id) : it.size,
      webUrl: `https://contoso-my.sharepoint.com/personal/${encodeURIComponent(d.ownerId)}/Documents/${encodeURIComponent(it.name)}`,
      createdBy: who,
      lastModifiedBy: who,
      fileSystemInfo: { ...it.fileSystemInfo },
    };
    if (it.parentId !== null) {
      const pr: MSGraph.ItemReference = { driveType: 'business', driveId: d.id, id: it.parentId };
      if (opts.withPath) pr.path = this.t.drivePath(d, it) ?? undefined;
      out.parentReference = pr;
    } else {
      out.parentReference = { driveType: 'business', driveId: d.id };
      out.root = {};
    }
    if (it.description) out.description = it.description;
    if (it.isFolder) out.folder = { childCount: [...d.items.values()].filter((c) => c.parentId === it.id).length };
    else {
      out.file = { mimeType: it.mimeType ?? 'application/octet-stream', hashes: { quickXorHash: it.quickXorHash ?? quickXorBase64(Buffer.alloc(0)) } };
      if (opts.withDownload) out['@microsoft.graph.downloadUrl'] = this.downloadUrl(req, d, it);
    }
    return out;
  }

  private folderSize(d: DriveState, id: string): number {
    let n = 0;
    for (const c of d.items.values()) if (c.parentId === id) n += c.isFolder ? this.folderSize(d, c.id) : c.size;
    return n;
  }

  private downloadUrl(req: ApiRequest, d: DriveState, it: DriveItemState): string {
    const token = randomBytes(18).toString('base64url');
    this.downloads.set(token, { driveId: d.id, itemId: it.id, contentVersion: it.contentVersion, expires: this.t.now() + 3600_000 });
    return `${req.origin}/_download/${token}`;
  }

  /** GET /_download/{token}: the bytes, with Range support; no Authorization needed. */
  download(token: string, range: string | undefined): ApiResponse {
    const d = this.downloads.get(token);
    if (!d || d.expires < this.t.now()) throw new GraphApiError(401, 'unauthenticated', 'The download URL has expired; request the item again for a fresh one.');
    const drive = this.t.driveOf(d.driveId);
    const it = drive?.items.get(d.itemId);
    if (!it || !it.content || it.contentVersion !== d.contentVersion) throw new GraphApiError(404, 'itemNotFound', 'The item or this version of its content no longer exists.');
    const size = contentSize(it.content);
    const r = range ? /^bytes=(\d*)-(\d*)$/.exec(range) : null;
    if (r && size > 0) {
      let start = r[1] ? Number(r[1]) : size - Number(r[2]);
      let end = r[1] && r[2] ? Number(r[2]) : size - 1;
      if (!r[1]) end = size - 1;
      start = Math.max(0, start);
      end = Math.min(end, size - 1);
      if (start > end) return { status: 416, headers: { 'content-range': `bytes */${size}` }, body: { error: { code: 'invalidRange', message: 'Range not satisfiable' } } };
      return { status: 206, headers: { 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' }, raw: { data: contentStream(it.content, start, end), contentType: it.mimeType ?? 'application/octet-stream', length: end - start + 1 } };
    }
    return { status: 200, headers: { 'accept-ranges': 'bytes' }, raw: { data: contentStream(it.content), contentType: it.mimeType ?? 'application/octet-stream', length: size } };
  }

  private uniqueName(d: DriveState, parentId: string, name: string): string {
    if (!this.t.childByName(d, parentId, name)) return name;
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    for (let i = 1; ; i++) {
      const candidate = `${stem} ${i}${ext}`;
      if (!this.t.childByName(d, parentId, candidate)) return candidate;
    }
  }

  private readFsi(v: unknown): { createdDateTime?: string; lastModifiedDateTime?: string } | undefined {
    if (v === undefined || v === null) return undefined;
    const f = v as { createdDateTime?: unknown; lastModifiedDateTime?: unknown };
    const out: { createdDateTime?: string; lastModifiedDateTime?: string } = {};
    for (const k of ['createdDateTime', 'lastModifiedDateTime'] as const) {
      const x = f[k];
      if (x === undefined) continue;
      if (typeof x !== 'string' || !Number.isFinite(Date.parse(x))) throw badRequest(`fileSystemInfo.${k} must be an ISO 8601 date-time.`, 'invalidRequest');
      out[k] = new Date(Date.parse(x)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    return out;
  }

  private delta(req: ApiRequest, d: DriveState): ApiResponse {
    const t = this.t;
    return deltaPage(req, {
      collection: `drive:${d.id}`,
      defaultPageSize: 200,
      maxPageSize: 1000,
      tokenParam: 'token',
      allowLatest: true,
      expired: () =>
        new GraphApiError(
          410,
          'resyncRequired',
          'Resync required. Replace any local items with the server version (including deletes) if you are sure that the service was up to date with your local changes when you last synced. Upload any local changes that the server does not know about.',
          { location: `${req.base}${req.path}` },
          'resyncChangesApplyDifferences',
        ),
      entries: (since, upto, full) => {
        const out: DeltaEntry[] = [];
        for (const it of d.items.values()) if (it.seq > since && it.seq <= upto) out.push({ seq: it.seq, id: it.id, render: () => this.render(req, d, it) });
        if (!full) {
          for (const x of d.tombstones) {
            if (x.seq > since && x.seq <= upto) {
              out.push({
                seq: x.seq, id: x.id,
                render: () => ({ id: x.id, name: x.name, parentReference: { driveType: 'business', driveId: d.id, id: x.parentId ?? undefined }, deleted: { state: 'deleted' }, ...(x.isFolder ? { folder: { childCount: 0 } } : { file: {} }) }),
              });
            }
          }
        }
        void t;
        return out;
      },
    });
  }

  /** Read a request body into memory, or into a spool file when large; with its QuickXorHash. */
  private async readBody(raw: IncomingMessage): Promise<{ content: Content; hash: string }> {
    const declared = Number(raw.headers['content-length'] ?? NaN);
    if (declared > SIMPLE_UPLOAD_MAX) throw new GraphApiError(413, 'requestTooLarge', 'Simple upload is limited to 250 MB: use an upload session.');
    const h = new QuickXorHash();
    if (Number.isFinite(declared) && declared > MEMORY_MAX) {
      const file = join(this.dataDir, `simple-${randomBytes(9).toString('base64url')}`);
      await pipeline(raw, async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          h.update(c);
          yield c;
        }
      }, createWriteStream(file));
      return { content: { file, size: (await stat(file)).size }, hash: h.digestBase64() };
    }
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of raw as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > SIMPLE_UPLOAD_MAX) throw new GraphApiError(413, 'requestTooLarge', 'Simple upload is limited to 250 MB: use an upload session.');
      chunks.push(c);
    }
    const buf = Buffer.concat(chunks);
    return { content: { buf }, hash: h.update(buf).digestBase64() };
  }

  /** Handle a drive request (the body is unread: uploads stream it). */
  async handle(req: ApiRequest, drive: DriveState, rest: string): Promise<ApiResponse> {
    const t = this.t;
    const owner = [...t.users.values()].find((u) => u.id === drive.ownerId);
    if (rest === '' || rest === '/') {
      if (req.method !== 'GET') throw new GraphApiError(405, 'invalidRequest', 'Method not allowed on a drive.');
      const root = drive.items.get(drive.rootId) as DriveItemState;
      const d: MSGraph.Drive & Record<string, unknown> = {
        id: drive.id, driveType: 'business', name: 'OneDrive', createdDateTime: root.createdDateTime, lastModifiedDateTime: root.lastModifiedDateTime,
        webUrl: `https://contoso-my.sharepoint.com/personal/${drive.ownerId}/Documents`,
        owner: { user: { id: drive.ownerId, displayName: owner?.displayName } },
        quota: { deleted: 0, remaining: 1099511627776 - this.folderSize(drive, drive.rootId), state: 'normal', total: 1099511627776, used: this.folderSize(drive, drive.rootId) },
      };
      return ok(d);
    }
    const a = this.address(drive, rest);
    const body = async (): Promise<Record<string, unknown>> => {
      const chunks: Buffer[] = [];
      for await (const c of req.raw as AsyncIterable<Buffer>) chunks.push(c);
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) return {};
      try {
        req.body = JSON.parse(text);
      } catch {
        throw badRequest('Invalid JSON in the request body.', 'invalidRequest');
      }
      return jsonBody(req);
    };
    switch (`${req.method} ${a.action}`) {
      case 'GET ': {
        const it = this.walk(a);
        if (!it) throw new GraphApiError(404, 'itemNotFound', 'The resource could not be found.');
        return ok(this.render(req, drive, it, { withPath: true, withDownload: true }));
      }
      case 'GET children': {
        const it = this.walk(a);
        if (!it || !it.isFolder) throw new GraphApiError(404, 'itemNotFound', 'The resource could not be found.');
        const kids = [...drive.items.values()].filter((c) => c.parentId === it.id).sort((x, y) => x.name.localeCompare(y.name));
        return listPage(req, kids, (c) => this.render(req, drive, c, { withPath: true, withDownload: true }), 200, 1000);
      }
      case 'GET delta': {
        if (a.base.id !== drive.rootId || a.path.length) throw badRequest('delta is only supported on the drive root.', 'invalidRequest');
        return this.delta(req, drive);
      }
      case 'GET content': {
        const it = this.walk(a);
        if (!it || it.isFolder) throw new GraphApiError(404, 'itemNotFound', 'The resource could not be found.');
        return { status: 302, headers: { location: this.downloadUrl(req, drive, it) } };
      }
      case 'POST children': {
        const parent = this.walk(a);
        if (!parent || !parent.isFolder) throw new GraphApiError(404, 'itemNotFound', 'The parent folder does not exist.');
        const b = await body();
        if (typeof b.name !== 'string') throw badRequest('name is required.', 'invalidRequest');
        checkName(b.name);
        if (b.folder === undefined) throw badRequest('Only folders can be created through children; upload files with PUT content or an upload session.', 'invalidRequest');
        const behavior = String(b['@microsoft.graph.conflictBehavior'] ?? 'fail');
        let name = b.name;
        const existing = t.childByName(drive, parent.id, name);
        if (existing) {
          if (behavior === 'fail') throw new GraphApiError(409, 'nameAlreadyExists', `An item named "${name}" already exists in this folder.`);
          if (behavior === 'rename') name = this.uniqueName(drive, parent.id, name);
          else t.deleteDriveItem(drive, existing.id);
        }
        const it = t.addDriveFolder(drive, parent.id, name, this.readFsi(b.fileSystemInfo));
        if (typeof b.description === 'string') it.description = b.description;
        return created(this.render(req, drive, it, { withPath: true }));
      }
      case 'PUT content': {
        const behavior = req.query.get('@microsoft.graph.conflictBehavior') ?? 'replace';
        let target: { parent: DriveItemState; name: string; existing?: DriveItemState };
        if (a.path.length) {
          const { parent, name } = this.parentAndName(a);
          target = { parent, name, existing: t.childByName(drive, parent.id, name) };
        } else {
          if (a.base.isFolder) throw badRequest('Cannot upload content to a folder.', 'invalidRequest');
          target = { parent: drive.items.get(a.base.parentId as string) as DriveItemState, name: a.base.name, existing: a.base };
        }
        if (target.existing?.isFolder) throw new GraphApiError(409, 'nameAlreadyExists', `A folder named "${target.name}" already exists.`);
        let name = target.name;
        if (target.existing && behavior === 'fail') throw new GraphApiError(409, 'nameAlreadyExists', `An item named "${name}" already exists in this folder.`);
        if (target.existing && behavior === 'rename') {
          name = this.uniqueName(drive, target.parent.id, name);
          target.existing = undefined;
        }
        const { content, hash } = await this.readBody(req.raw);
        const { item, created: isNew } = t.putDriveFile(drive, target.parent.id, name, content, hash, mimeTypeOf(name), undefined, target.existing);
        return { status: isNew ? 201 : 200, body: this.render(req, drive, item, { withPath: true }) };
      }
      case 'POST createUploadSession': {
        const b = await body();
        const item = (b.item ?? {}) as Record<string, unknown>;
        const behavior = String(item['@microsoft.graph.conflictBehavior'] ?? 'replace');
        if (!['fail', 'replace', 'rename'].includes(behavior)) throw badRequest(`@microsoft.graph.conflictBehavior must be fail, replace or rename, got ${behavior}.`, 'invalidRequest');
        const fsi = this.readFsi(item.fileSystemInfo);
        let parentId: string;
        let name: string;
        let existingId: string | undefined;
        if (a.path.length) {
          const pn = this.parentAndName(a);
          parentId = pn.parent.id;
          name = pn.name;
          const ex = t.childByName(drive, parentId, name);
          if (ex?.isFolder) throw new GraphApiError(409, 'nameAlreadyExists', `A folder named "${name}" already exists.`);
          if (ex && behavior === 'fail') throw new GraphApiError(409, 'nameAlreadyExists', `An item named "${name}" already exists in this folder.`);
          existingId = behavior === 'replace' ? ex?.id : undefined;
        } else {
          if (a.base.isFolder) throw badRequest('Cannot upload content to a folder.', 'invalidRequest');
          parentId = a.base.parentId as string;
          name = a.base.name;
          existingId = a.base.id;
        }
        const size = Number(req.query.get('fileSize') ?? (b.item as { fileSize?: number } | undefined)?.fileSize ?? NaN);
        const declared = Number.isFinite(size) ? size : -1;
        const description = typeof item.description === 'string' ? item.description : undefined;
        const session = this.uploads.open({
          kind: 'drive',
          size: declared,
          origin: req.origin,
          complete: async (_buf, content, hash) => {
            const parent = drive.items.get(parentId);
            if (!parent) throw new GraphApiError(404, 'itemNotFound', 'The parent folder was deleted during the upload.');
            let finalName = name;
            let existing = existingId ? drive.items.get(existingId) : undefined;
            const clash = t.childByName(drive, parentId, name);
            if (!existing && clash) {
              if (behavior === 'fail') throw new GraphApiError(409, 'nameAlreadyExists', `An item named "${name}" already exists in this folder.`);
              if (behavior === 'rename') finalName = this.uniqueName(drive, parentId, name);
              else existing = clash;
            }
            const { item: it, created: isNew } = t.putDriveFile(drive, parentId, finalName, content, hash, mimeTypeOf(finalName), fsi, existing);
            if (description !== undefined) it.description = description;
            return { status: isNew ? 201 : 200, body: this.render(req, drive, it, { withPath: true }) };
          },
        });
        return ok({ '@odata.context': `${req.base}/$metadata#microsoft.graph.uploadSession`, uploadUrl: session.url, expirationDateTime: session.expires, nextExpectedRanges: ['0-'] });
      }
      case 'PATCH ': {
        const it = this.walk(a);
        if (!it) throw new GraphApiError(404, 'itemNotFound', 'The resource could not be found.');
        if (it.parentId === null) throw new GraphApiError(403, 'accessDenied', 'The root folder cannot be changed.');
        const b = await body();
        let parentId = it.parentId;
        const pr = b.parentReference as { id?: string } | undefined;
        if (pr?.id) {
          const np = drive.items.get(pr.id);
          if (!np || !np.isFolder) throw new GraphApiError(404, 'itemNotFound', 'The destination folder does not exist.');
          if (t.isUnder(drive, np.id, it.id)) throw badRequest('An item cannot be moved into itself or its descendants.', 'invalidRequest');
          parentId = np.id;
        }
        const name = typeof b.name === 'string' ? b.name : it.name;
        checkName(name);
        const clash = t.childByName(drive, parentId, name);
        if (clash && clash.id !== it.id) throw new GraphApiError(409, 'nameAlreadyExists', `An item named "${name}" already exists in the destination folder.`);
        it.parentId = parentId;
        it.name = name;
        const fsi = this.readFsi(b.fileSystemInfo);
        if (fsi) it.fileSystemInfo = { ...it.fileSystemInfo, ...fsi };
        if (typeof b.description === 'string') it.description = b.description;
        t.touchDriveItem(it);
        return ok(this.render(req, drive, it, { withPath: true }));
      }
      case 'DELETE ': {
        const it = this.walk(a);
        if (!it) throw new GraphApiError(404, 'itemNotFound', 'The resource could not be found.');
        if (it.parentId === null) throw new GraphApiError(403, 'accessDenied', 'The root folder cannot be deleted.');
        t.deleteDriveItem(drive, it.id);
        return noContent();
      }
      default:
        throw new GraphApiError(405, 'invalidRequest', `${req.method} is not supported on ${a.action || 'an item'}.`);
    }
  }
}
