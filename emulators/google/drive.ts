/** Drive API v3 handlers: files, permissions, changes, shared drives, about. */
import type { drive_v3 } from 'googleapis';
import type { Content } from './content.js';
import { DriveState, type DFile, type SharedDrive } from './drive-state.js';
import { parseDriveQuery } from './drive-query.js';
import { ApiError, badRequest, forbidden, invalidParam, required } from './errors.js';
import { boolParam, intParam, json, noContent, pageToken, readPageToken, requireParam, type EmulatorEnv, type Handler, type Req, type Reply } from './http.js';
import { EXPORT_FORMATS, IMPORT_FORMATS, NATIVE, officeFromText, textFromOffice } from './ooxml.js';

const FILE_DEFAULT = 'kind,id,name,mimeType';
const ROLES = ['owner', 'organizer', 'fileOrganizer', 'writer', 'commenter', 'reader'];
const RANK = ['reader', 'commenter', 'writer', 'fileOrganizer', 'organizer', 'owner'];
const atLeast = (role: string | null, min: string): boolean => role !== null && RANK.indexOf(role) >= RANK.indexOf(min);

const fileNotFound = (id: string): ApiError => new ApiError(404, `File not found: ${id}.`, 'notFound', { location: 'fileId', locationType: 'parameter' });
const driveNotFound = (id: string): ApiError => new ApiError(404, `Shared drive not found: ${id}`, 'notFound', { location: 'driveId', locationType: 'parameter' });

function displayName(env: EmulatorEnv, email: string): string {
  return env.state.users.get(email)?.name?.fullName ?? env.state.groups.get(email)?.group.name ?? email;
}

function driveUser(env: EmulatorEnv, email: string, me: string): drive_v3.Schema$User {
  return { kind: 'drive#user', displayName: displayName(env, email), emailAddress: email, me: email === me, permissionId: DriveState.permissionId('user', email) };
}

/** Resolve a file id ('root' = the user's My Drive root) the user can see, or 404. */
function getFile(env: EmulatorEnv, req: Req, id: string, opts: { supportsAllDrives?: boolean } = {}): DFile {
  const d = env.state.drive;
  const fid = id === 'root' ? (d.roots.get(req.user) ?? id) : id;
  const f = d.files.get(fid);
  const all = opts.supportsAllDrives ?? (boolParam(req.query, 'supportsAllDrives') || boolParam(req.query, 'supportsTeamDrives'));
  if (!f || !d.canAccess(req.user, f) || (f.driveId && !all)) throw fileNotFound(id);
  return f;
}

function exportLinks(f: DFile, env: EmulatorEnv): Record<string, string> | undefined {
  const formats = EXPORT_FORMATS[f.mimeType];
  if (!formats) return undefined;
  return Object.fromEntries(formats.map((m) => [m, `${env.rootUrl}drive/v3/files/${f.id}/export?mimeType=${encodeURIComponent(m)}`]));
}

export function fileResource(f: DFile, env: EmulatorEnv, user: string): drive_v3.Schema$File {
  const d = env.state.drive;
  const role = d.roleOf(user, f);
  const isFolder = f.mimeType === NATIVE.folder;
  const out: drive_v3.Schema$File = {
    kind: 'drive#file',
    id: f.id,
    name: f.name,
    mimeType: f.mimeType,
    parents: [...f.parents],
    starred: f.starred,
    trashed: f.trashed,
    explicitlyTrashed: f.trashed,
    version: String(f.version),
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    spaces: ['drive'],
    appProperties: { ...f.appProperties },
    properties: { ...f.properties },
    lastModifyingUser: driveUser(env, f.lastModifyingUser, user),
    viewersCanCopyContent: true,
    writersCanShare: true,
    webViewLink: isFolder ? `https://drive.google.com/drive/folders/${f.id}` : `https://drive.google.com/file/d/${f.id}/view?usp=drivesdk`,
    iconLink: `https://drive-thirdparty.googleusercontent.com/16/type/${f.mimeType}`,
    quotaBytesUsed: String(f.content?.size ?? 0),
    isAppAuthorized: true,
    capabilities: {
      canEdit: atLeast(role, 'writer'),
      canShare: atLeast(role, 'writer'),
      canDownload: true,
      canDelete: f.driveId ? atLeast(role, 'organizer') : role === 'owner',
      canTrash: f.driveId ? atLeast(role, 'fileOrganizer') : role === 'owner',
      canAddChildren: isFolder && atLeast(role, 'writer'),
      canListChildren: isFolder,
      canRename: atLeast(role, 'writer'),
    },
  };
  if (f.description !== undefined) out.description = f.description;
  if (f.driveId) {
    out.driveId = f.driveId;
    out.teamDriveId = f.driveId;
    out.permissionIds = f.permissions.map((p) => p.id as string);
  } else {
    const owner = f.owner as string;
    out.owners = [driveUser(env, owner, user)];
    out.ownedByMe = owner === user;
    out.shared = f.permissions.length > 0;
    out.permissions = [ownerPermission(env, f), ...f.permissions].map((p) => ({ ...p }));
    out.permissionIds = out.permissions.map((p) => p.id as string);
  }
  if (f.content && !isFolder && !f.mimeType.startsWith('application/vnd.google-apps.')) {
    out.size = String(f.content.size);
    out.md5Checksum = f.content.md5;
    out.sha1Checksum = f.content.sha1;
    out.sha256Checksum = f.content.sha256;
    out.headRevisionId = `0B${f.content.md5.slice(0, 20)}`;
    out.originalFilename = f.originalFilename ?? f.name;
    const ext = /\.([A-Za-z0-9]+)$/.exec(f.name);
    if (ext) {
      out.fileExtension = ext[1];
      out.fullFileExtension = ext[1];
    }
  }
  const links = exportLinks(f, env);
  if (links) out.exportLinks = links;
  return out;
}

function ownerPermission(env: EmulatorEnv, f: DFile): drive_v3.Schema$Permission {
  const owner = f.owner as string;
  return { kind: 'drive#permission', id: DriveState.permissionId('user', owner), type: 'user', role: 'owner', emailAddress: owner, displayName: displayName(env, owner), deleted: false, pendingOwner: false };
}

function drivePermissionView(p: drive_v3.Schema$Permission, inherited: boolean, fileId: string): drive_v3.Schema$Permission {
  return { ...p, permissionDetails: [{ permissionType: 'member', role: p.role ?? 'reader', inherited, ...(inherited ? { inheritedFrom: fileId } : {}) }] };
}

// files ------------------------------------------------------------------------------------------

const filesList: Handler = (req, env) => {
  const d = env.state.drive;
  const q = req.query;
  const all = boolParam(q, 'supportsAllDrives') || boolParam(q, 'supportsTeamDrives');
  const includeAll = boolParam(q, 'includeItemsFromAllDrives') || boolParam(q, 'includeTeamDriveItems');
  const driveId = q.get('driveId') ?? q.get('teamDriveId');
  const corpora = q.get('corpora') ?? (driveId ? 'drive' : 'user');
  if (!['user', 'drive', 'domain', 'allDrives'].includes(corpora)) throw invalidParam('corpora', corpora);
  if (driveId && corpora !== 'drive') throw badRequest('The driveId parameter is only allowed with corpora=drive.', 'invalid', 'corpora');
  if (corpora === 'drive' && !driveId) throw badRequest('The driveId parameter is required when corpora=drive.', 'required', 'driveId');
  if ((corpora === 'drive' || corpora === 'allDrives') && !(all && includeAll)) {
    throw new ApiError(403, 'The includeItemsFromAllDrives parameter must be set to true, with supportsAllDrives, to search shared drives.', 'teamDrivesParameterRequired');
  }
  if (driveId) {
    const drive = d.drives.get(driveId);
    if (!drive || !d.isMember(req.user, drive)) throw driveNotFound(driveId);
  }
  const pageSize = intParam(q, 'pageSize', 100, 1, 1000, true);
  const pred = parseDriveQuery(q.get('q') ?? '');
  const orderBy = q.get('orderBy') ?? '';
  const fingerprint = JSON.stringify([corpora, driveId, q.get('q'), orderBy, includeAll]);
  const offset = readPageToken(q.get('pageToken'), fingerprint);
  const roots = new Set(d.roots.values());
  const items = [...d.files.values()].filter((f) => {
    if (roots.has(f.id) || d.drives.has(f.id)) return false;
    if (!d.canAccess(req.user, f)) return false;
    if (corpora === 'drive') return f.driveId === driveId;
    if (corpora === 'user') return !f.driveId || includeAll;
    if (corpora === 'domain') return !f.driveId && f.permissions.some((p) => p.type === 'domain');
    return true;
  });
  const matched = items.filter((f) => pred(f, req.user, d));
  const keys = orderBy.split(',').map((s) => s.trim()).filter(Boolean);
  matched.sort((a, b) => {
    for (const k of keys) {
      const [field, dir] = k.split(/\s+/);
      const sign = dir === 'desc' ? -1 : 1;
      const va = field === 'folder' ? String(a.mimeType !== NATIVE.folder) : field === 'name' ? a.name.toLowerCase() : field === 'createdTime' ? a.createdTime : field === 'modifiedTime' ? a.modifiedTime : null;
      const vb = field === 'folder' ? String(b.mimeType !== NATIVE.folder) : field === 'name' ? b.name.toLowerCase() : field === 'createdTime' ? b.createdTime : field === 'modifiedTime' ? b.modifiedTime : null;
      if (va === null || vb === null) throw invalidParam('orderBy', orderBy, 'the emulator orders by folder, name, createdTime, modifiedTime');
      if (va !== vb) return va < vb ? -sign : sign;
    }
    return a.createdTime < b.createdTime ? -1 : a.createdTime > b.createdTime ? 1 : a.id < b.id ? -1 : 1;
  });
  const page = matched.slice(offset, offset + pageSize);
  const out: drive_v3.Schema$FileList = { kind: 'drive#fileList', incompleteSearch: false, files: page.map((f) => fileResource(f, env, req.user)) };
  if (offset + pageSize < matched.length) out.nextPageToken = pageToken(offset + pageSize, fingerprint);
  return { status: 200, json: out, defaultFields: 'kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)' };
};

function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

function media(env: EmulatorEnv, req: Req, content: Content, mimeType: string): Reply {
  const range = parseRange(req.raw.headers.range, content.size);
  if (range === 'invalid') throw new ApiError(416, 'Request range not satisfiable', 'requestedRangeNotSatisfiable');
  const headers: Record<string, string> = { 'Content-Type': mimeType, 'Accept-Ranges': 'bytes' };
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${content.size}`;
    headers['Content-Length'] = String(range.end - range.start + 1);
    return { status: 206, headers, body: env.state.content.read(content, range) };
  }
  headers['Content-Length'] = String(content.size);
  return { status: 200, headers, body: env.state.content.read(content) };
}

const filesGet: Handler = (req, env) => {
  const f = getFile(env, req, req.params.fileId as string);
  if (req.query.get('alt') === 'media') {
    if (f.mimeType.startsWith('application/vnd.google-apps.')) {
      throw new ApiError(403, 'Only files with binary content can be downloaded. Use Export with Docs Editors files.', 'fileNotDownloadable', { location: 'alt', locationType: 'parameter' });
    }
    return media(env, req, f.content ?? { size: 0, md5: '', sha1: '', sha256: '', buffer: Buffer.alloc(0) }, f.mimeType);
  }
  return { status: 200, json: fileResource(f, env, req.user), defaultFields: FILE_DEFAULT };
};

const filesExport: Handler = (req, env) => {
  const f = getFile(env, req, req.params.fileId as string, { supportsAllDrives: true });
  const target = requireParam(req.query, 'mimeType');
  const formats = EXPORT_FORMATS[f.mimeType];
  if (!formats) throw new ApiError(403, 'Export only supports Docs Editors files.', 'fileNotExportable');
  if (!formats.includes(target)) throw badRequest('The requested conversion is not supported.', 'badRequest', 'convertTo');
  const text = f.text ?? '';
  const bytes = target.startsWith('text/') ? Buffer.from(text, 'utf8') : officeFromText(f.mimeType, text);
  if (bytes.length > env.exportLimitBytes) throw new ApiError(403, 'This file is too large to be exported.', 'exportSizeLimitExceeded');
  return { status: 200, headers: { 'Content-Type': target, 'Content-Length': String(bytes.length) }, body: bytes };
};

function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`Invalid value for ${field}`, 'invalid');
  return v;
}

function strMap(v: unknown, field: string): Record<string, string | null> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid value for ${field}`, 'invalid');
  for (const [k, x] of Object.entries(v)) {
    if (x !== null && typeof x !== 'string') throw badRequest(`Invalid value for ${field}.${k}`, 'invalid');
    if (Buffer.byteLength(k + (x ?? '')) > 124) throw badRequest(`The size of the property ${k} exceeds 124 bytes.`, 'invalid');
  }
  return v as Record<string, string | null>;
}

function time(v: unknown, field: string): string | undefined {
  const s = str(v, field);
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw badRequest(`Invalid value for ${field}: ${s}`, 'invalid');
  return new Date(t).toISOString();
}

async function contentAndType(env: EmulatorEnv, req: Req, declared: string | undefined, existing?: DFile): Promise<{ mimeType: string; content?: Content; text?: string }> {
  const up = req.upload;
  const nativeTarget = declared ?? existing?.mimeType;
  if (nativeTarget && nativeTarget.startsWith('application/vnd.google-apps.')) {
    if (nativeTarget === NATIVE.folder || nativeTarget === NATIVE.shortcut) {
      if (up && up.content.size > 0) throw badRequest('Folders cannot have content.', 'badContent');
      return { mimeType: nativeTarget };
    }
    if (!EXPORT_FORMATS[nativeTarget]) throw badRequest(`The emulator cannot create files of type ${nativeTarget}.`, 'badRequest');
    if (!up) return { mimeType: nativeTarget, text: existing?.text ?? '' };
    if (!(IMPORT_FORMATS[up.mediaType] ?? []).includes(nativeTarget)) {
      throw badRequest(`The conversion from ${up.mediaType} to ${nativeTarget} is not supported.`, 'badRequest');
    }
    const bytes = await env.state.content.readAll(up.content);
    await env.state.content.release(up.content);
    let text: string;
    try {
      text = up.mediaType.startsWith('text/') ? bytes.toString('utf8') : textFromOffice(bytes);
    } catch {
      throw badRequest('The uploaded file could not be converted: it is not a valid Office document.', 'badContent');
    }
    return { mimeType: nativeTarget, text };
  }
  const mimeType = declared ?? (up ? up.mediaType : undefined) ?? existing?.mimeType ?? 'application/octet-stream';
  if (up) return { mimeType, content: up.content };
  return existing?.content ? { mimeType, content: existing.content } : { mimeType, content: await env.state.content.fromBuffer(Buffer.alloc(0)) };
}

function parentFor(env: EmulatorEnv, req: Req, id: string): DFile {
  const d = env.state.drive;
  const fid = id === 'root' ? (d.roots.get(req.user) ?? id) : id;
  const p = d.files.get(fid);
  const all = boolParam(req.query, 'supportsAllDrives') || boolParam(req.query, 'supportsTeamDrives');
  if (!p || !d.canAccess(req.user, p) || (p.driveId && !all)) throw fileNotFound(id);
  if (p.mimeType !== NATIVE.folder) throw badRequest('The specified parent is not a folder.', 'teamDrivesFolderMoveInNotSupported');
  if (!atLeast(d.roleOf(req.user, p), 'writer')) throw new ApiError(403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
  return p;
}

const filesCreate: Handler = async (req, env) => {
  const d = env.state.drive;
  const b = req.body;
  const parents = b.parents === undefined ? ['root'] : b.parents;
  if (!Array.isArray(parents) || parents.length > 1 || parents.some((p) => typeof p !== 'string')) {
    throw new ApiError(403, 'Increasing the number of parents is not allowed', 'cannotAddParent');
  }
  const parent = parentFor(env, req, (parents[0] as string | undefined) ?? 'root');
  const { mimeType, content, text } = await contentAndType(env, req, str(b.mimeType, 'mimeType'), undefined);
  const now = env.state.iso();
  const f: DFile = {
    id: env.state.newId('file'),
    name: str(b.name, 'name') ?? (req.upload ? 'Untitled' : 'Untitled'),
    mimeType,
    parents: [parent.id],
    createdTime: time(b.createdTime, 'createdTime') ?? now,
    modifiedTime: time(b.modifiedTime, 'modifiedTime') ?? now,
    version: 0,
    trashed: false,
    appProperties: Object.fromEntries(Object.entries(strMap(b.appProperties, 'appProperties')).filter(([, v]) => v !== null)) as Record<string, string>,
    properties: Object.fromEntries(Object.entries(strMap(b.properties, 'properties')).filter(([, v]) => v !== null)) as Record<string, string>,
    starred: b.starred === true,
    permissions: [],
    lastModifyingUser: req.user,
    seenBy: new Set([req.user]),
  };
  const description = str(b.description, 'description');
  if (description !== undefined) f.description = description;
  const originalFilename = str(b.originalFilename, 'originalFilename');
  if (originalFilename !== undefined) f.originalFilename = originalFilename;
  if (parent.driveId) f.driveId = parent.driveId;
  else f.owner = req.user;
  if (content) f.content = content;
  if (text !== undefined) f.text = text;
  d.files.set(f.id, f);
  d.touch(f);
  return { status: 200, json: fileResource(f, env, req.user), defaultFields: FILE_DEFAULT };
};

const filesUpdate: Handler = async (req, env) => {
  const d = env.state.drive;
  const f = getFile(env, req, req.params.fileId as string);
  const role = d.roleOf(req.user, f);
  if (!atLeast(role, 'writer')) throw new ApiError(403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
  const b = req.body;
  const name = str(b.name, 'name');
  if (name !== undefined) f.name = name;
  const description = str(b.description, 'description');
  if (description !== undefined) f.description = description;
  if (typeof b.starred === 'boolean') f.starred = b.starred;
  if (typeof b.trashed === 'boolean') {
    if (!(f.driveId ? atLeast(role, 'fileOrganizer') : role === 'owner')) throw new ApiError(403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
    f.trashed = b.trashed;
    for (const child of d.descendants(f.id)) {
      child.trashed = b.trashed;
      d.touch(child);
    }
  }
  for (const [k, v] of Object.entries(strMap(b.appProperties, 'appProperties'))) {
    if (v === null) delete f.appProperties[k];
    else f.appProperties[k] = v;
  }
  for (const [k, v] of Object.entries(strMap(b.properties, 'properties'))) {
    if (v === null) delete f.properties[k];
    else f.properties[k] = v;
  }
  if (b.parents !== undefined) throw new ApiError(403, 'The parents field is not directly writable in update requests. Use the addParents and removeParents parameters instead.', 'fieldNotWritable');
  const add = (req.query.get('addParents') ?? '').split(',').filter(Boolean);
  const remove = (req.query.get('removeParents') ?? '').split(',').filter(Boolean);
  if (add.length || remove.length) {
    const next = f.parents.filter((p) => !remove.includes(p));
    for (const a of add) {
      const p = parentFor(env, req, a);
      if (p.driveId !== f.driveId) throw new ApiError(403, 'Moving items between My Drive and shared drives is not supported by the emulator.', 'teamDrivesParentLimit');
      if (p.id === f.id || d.descendants(f.id).some((x) => x.id === p.id)) throw badRequest('A folder cannot be moved into itself or its descendants.', 'invalidParent');
      if (!next.includes(p.id)) next.push(p.id);
    }
    if (next.length !== 1) throw new ApiError(403, 'A shared drive item and a My Drive item must have exactly one parent.', 'cannotAddParent');
    f.parents = next;
  }
  let modified = false;
  if (req.upload) {
    const res = await contentAndType(env, req, str(b.mimeType, 'mimeType'), f);
    if (f.content && res.content !== f.content) await env.state.content.release(f.content);
    f.mimeType = res.mimeType;
    if (res.content) f.content = res.content;
    else delete f.content;
    if (res.text !== undefined) f.text = res.text;
    modified = true;
  } else if (b.mimeType !== undefined && b.mimeType !== f.mimeType) {
    throw new ApiError(403, 'The mimeType of a file can only be changed with new content.', 'fieldNotWritable');
  }
  const mt = time(b.modifiedTime, 'modifiedTime');
  f.lastModifyingUser = req.user;
  d.touch(f, { modified: modified || mt === undefined });
  if (mt) f.modifiedTime = mt;
  return { status: 200, json: fileResource(f, env, req.user), defaultFields: FILE_DEFAULT };
};

const filesDelete: Handler = async (req, env) => {
  const d = env.state.drive;
  const f = getFile(env, req, req.params.fileId as string);
  const role = d.roleOf(req.user, f);
  if (!(f.driveId ? atLeast(role, 'organizer') : role === 'owner')) throw new ApiError(403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
  if (d.roots.get(req.user) === f.id || d.drives.has(f.id)) throw new ApiError(403, 'The root folder cannot be deleted.', 'cannotDeleteRoot');
  for (const x of [...d.descendants(f.id).reverse(), f]) {
    d.remove(x);
    await env.state.content.release(x.content);
  }
  return noContent();
};

// permissions -------------------------------------------------------------------------------------

function permTarget(env: EmulatorEnv, req: Req): { file?: DFile; drive?: SharedDrive } {
  const d = env.state.drive;
  const id = req.params.fileId as string;
  const drive = d.drives.get(id);
  if (drive) {
    const all = boolParam(req.query, 'supportsAllDrives') || boolParam(req.query, 'supportsTeamDrives');
    const admin = boolParam(req.query, 'useDomainAdminAccess') && !!env.state.users.get(req.user)?.isAdmin;
    if (!all || (!d.isMember(req.user, drive) && !admin)) throw fileNotFound(id);
    return { drive };
  }
  return { file: getFile(env, req, id) };
}

function permissionsOf(env: EmulatorEnv, t: { file?: DFile; drive?: SharedDrive }): drive_v3.Schema$Permission[] {
  const d = env.state.drive;
  if (t.drive) return t.drive.members.map((p) => drivePermissionView(p, false, t.drive?.id as string));
  const f = t.file as DFile;
  if (f.driveId) {
    const drive = d.drives.get(f.driveId) as SharedDrive;
    return [...drive.members.map((p) => drivePermissionView(p, true, drive.id)), ...f.permissions.map((p) => drivePermissionView(p, false, f.id))];
  }
  return [ownerPermission(env, f), ...f.permissions];
}

const permissionsList: Handler = (req, env) => {
  const t = permTarget(env, req);
  const all = permissionsOf(env, t);
  const size = intParam(req.query, 'pageSize', 100, 1, 100, true);
  const fingerprint = req.params.fileId as string;
  const offset = readPageToken(req.query.get('pageToken'), fingerprint);
  const out: drive_v3.Schema$PermissionList = { kind: 'drive#permissionList', permissions: all.slice(offset, offset + size) };
  if (offset + size < all.length) out.nextPageToken = pageToken(offset + size, fingerprint);
  return { status: 200, json: out, defaultFields: 'kind,nextPageToken,permissions(kind,id,type,role,emailAddress,domain,allowFileDiscovery,deleted,pendingOwner,displayName)' };
};

const permissionsGet: Handler = (req, env) => {
  const p = permissionsOf(env, permTarget(env, req)).find((x) => x.id === req.params.permissionId);
  if (!p) throw new ApiError(404, `Permission not found: ${req.params.permissionId}.`, 'notFound', { location: 'permissionId', locationType: 'parameter' });
  return { status: 200, json: p, defaultFields: 'kind,id,type,role' };
};

const permissionsCreate: Handler = (req, env) => {
  const d = env.state.drive;
  const t = permTarget(env, req);
  const b = req.body;
  const role = str(b.role, 'role');
  const type = str(b.type, 'type');
  if (!role) throw required('permission.role');
  if (!type) throw required('permission.type');
  if (!ROLES.includes(role)) throw badRequest(`Invalid value for role: ${role}`, 'invalid', 'permission.role');
  if (!['user', 'group', 'domain', 'anyone'].includes(type)) throw badRequest(`Invalid value for type: ${type}`, 'invalid', 'permission.type');
  const email = str(b.emailAddress, 'emailAddress')?.toLowerCase();
  const domain = str(b.domain, 'domain')?.toLowerCase();
  if ((type === 'user' || type === 'group') && !email) throw badRequest('The permission emailAddress field is required for the user and group types.', 'required', 'permission.emailAddress');
  if (type === 'domain' && !domain) throw badRequest('The permission domain field is required for the domain type.', 'required', 'permission.domain');
  const inSharedDrive = !!t.drive || !!t.file?.driveId;
  if (role === 'owner') {
    if (inSharedDrive) throw forbidden('Shared drive items cannot have owners.', 'teamDrivesOwnerNotAllowed');
    if (!boolParam(req.query, 'transferOwnership')) throw forbidden("The transferOwnership parameter must be enabled when the permission role is 'owner'.", 'forbidden');
  }
  if ((role === 'organizer' || role === 'fileOrganizer') && !inSharedDrive) throw badRequest(`The role ${role} is only valid in shared drives.`, 'invalidSharingRequest');
  const mayEdit = t.drive ? atLeast(d.isMember(req.user, t.drive)?.role ?? null, 'organizer') || !!env.state.users.get(req.user)?.isAdmin : atLeast(d.roleOf(req.user, t.file as DFile), 'writer');
  if (!mayEdit) throw new ApiError(403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
  const notify = req.query.has('sendNotificationEmail') ? boolParam(req.query, 'sendNotificationEmail') : type === 'user' || type === 'group';
  if (email && type === 'user' && email.endsWith('@' + env.state.domain) && !env.state.users.has(email) && !notify) {
    throw badRequest(`Bad Request. User message: "You are trying to invite ${email}. Since there is no Google account associated with this email address, you must check the "Notify people" box to invite this recipient."`, 'invalidSharingRequest');
  }
  if (email && type === 'group' && email.endsWith('@' + env.state.domain) && !env.state.groups.has(email)) {
    throw badRequest(`Bad Request. User message: "${email} is not a group."`, 'invalidSharingRequest');
  }
  const id = DriveState.permissionId(type, email ?? domain ?? 'anyone');
  const perm: drive_v3.Schema$Permission = { kind: 'drive#permission', id, type, role, deleted: false, pendingOwner: false };
  if (email) {
    perm.emailAddress = email;
    perm.displayName = displayName(env, email);
  }
  if (domain) {
    perm.domain = domain;
    perm.displayName = domain;
  }
  if (type === 'domain' || type === 'anyone') perm.allowFileDiscovery = b.allowFileDiscovery === true;
  if (notify && (type === 'user' || type === 'group')) d.notificationsSent++;
  if (t.drive) {
    const i = t.drive.members.findIndex((p) => p.id === id);
    if (i >= 0) t.drive.members[i] = perm;
    else t.drive.members.push(perm);
  } else {
    const f = t.file as DFile;
    if (role === 'owner' && !f.driveId) {
      const prev = f.owner as string;
      f.owner = email as string;
      f.permissions = f.permissions.filter((p) => p.id !== id);
      f.permissions.push({ kind: 'drive#permission', id: DriveState.permissionId('user', prev), type: 'user', role: 'writer', emailAddress: prev, displayName: displayName(env, prev), deleted: false, pendingOwner: false });
    } else {
      const i = f.permissions.findIndex((p) => p.id === id);
      if (i >= 0) f.permissions[i] = perm;
      else f.permissions.push(perm);
    }
    d.touch(f);
  }
  return { status: 200, json: perm, defaultFields: 'kind,id,type,role' };
};

const permissionsDelete: Handler = (req, env) => {
  const d = env.state.drive;
  const t = permTarget(env, req);
  const pid = req.params.permissionId as string;
  if (t.drive) {
    if (!t.drive.members.some((p) => p.id === pid)) throw new ApiError(404, `Permission not found: ${pid}.`, 'notFound');
    t.drive.members = t.drive.members.filter((p) => p.id !== pid);
    return noContent();
  }
  const f = t.file as DFile;
  if (!f.driveId && pid === DriveState.permissionId('user', f.owner as string)) throw forbidden('The owner of a file cannot be removed.', 'cannotRemoveOwner');
  if (!f.permissions.some((p) => p.id === pid)) throw new ApiError(404, `Permission not found: ${pid}.`, 'notFound');
  if (!atLeast(d.roleOf(req.user, f), 'writer')) throw new ApiError(403, 'The user does not have sufficient permissions for this file.', 'insufficientFilePermissions');
  f.permissions = f.permissions.filter((p) => p.id !== pid);
  d.touch(f);
  return noContent();
};

// changes ---------------------------------------------------------------------------------------

function changeScope(env: EmulatorEnv, req: Req): { driveId: string | null } {
  const driveId = req.query.get('driveId') ?? req.query.get('teamDriveId');
  if (driveId) {
    if (!(boolParam(req.query, 'supportsAllDrives') || boolParam(req.query, 'supportsTeamDrives'))) {
      throw new ApiError(403, 'The supportsAllDrives parameter must be set to true when driveId is specified.', 'teamDrivesParameterRequired');
    }
    const drive = env.state.drive.drives.get(driveId);
    if (!drive || !env.state.drive.isMember(req.user, drive)) throw driveNotFound(driveId);
  }
  return { driveId };
}

const changesStart: Handler = (req, env) => {
  changeScope(env, req);
  return json(200, { kind: 'drive#startPageToken', startPageToken: env.state.drive.startPageToken() } satisfies drive_v3.Schema$StartPageToken);
};

const changesList: Handler = (req, env) => {
  const d = env.state.drive;
  const q = req.query;
  const { driveId } = changeScope(env, req);
  const tokenText = q.get('pageToken');
  if (!tokenText) throw required('pageToken');
  if (!/^[1-9]\d*$/.test(tokenText)) throw invalidParam('pageToken', tokenText);
  const token = Number(tokenText);
  const includeRemoved = boolParam(q, 'includeRemoved', true);
  const includeAll = boolParam(q, 'includeItemsFromAllDrives') || boolParam(q, 'includeTeamDriveItems');
  const restrict = boolParam(q, 'restrictToMyDrive');
  const pageSize = intParam(q, 'pageSize', 100, 1, 1000, true);
  const user = req.user;
  const roots = new Set(d.roots.values());
  type Out = drive_v3.Schema$Change;
  const visible: Array<{ seq: number; change: Out }> = [];
  for (const c of d.changesSince(token, () => true)) {
    if (roots.has(c.fileId)) continue;
    if (driveId) {
      if (c.driveId !== driveId) continue;
    } else if (c.driveId && (!includeAll || restrict)) continue;
    const f = d.files.get(c.fileId);
    const change: Out = { kind: 'drive#change', type: 'file', changeType: 'file', fileId: c.fileId, time: c.time, removed: false };
    if (c.driveId) {
      change.driveId = c.driveId;
      change.teamDriveId = c.driveId;
    }
    if (f && d.canAccess(user, f)) {
      change.file = fileResource(f, env, user);
    } else {
      const seen = f ? f.seenBy.has(user) : (d.tombstones.get(c.fileId)?.seenBy.has(user) ?? false);
      if (!seen && !driveId) continue;
      if (!includeRemoved) continue;
      change.removed = true;
    }
    visible.push({ seq: c.seq, change });
  }
  const page = visible.slice(0, pageSize);
  const out: drive_v3.Schema$ChangeList = { kind: 'drive#changeList', changes: page.map((p) => p.change) };
  if (visible.length > pageSize) out.nextPageToken = String((visible[pageSize] as { seq: number }).seq);
  else out.newStartPageToken = String(Math.max(token, d.seq + 1));
  return { status: 200, json: out, defaultFields: 'kind,nextPageToken,newStartPageToken,changes(kind,type,changeType,time,removed,fileId,driveId,teamDriveId,file(kind,id,name,mimeType))' };
};

// shared drives -----------------------------------------------------------------------------------

function driveResource(drive: SharedDrive): drive_v3.Schema$Drive {
  return {
    kind: 'drive#drive',
    id: drive.id,
    name: drive.name,
    createdTime: drive.createdTime,
    hidden: drive.hidden,
    colorRgb: '#4986e7',
    restrictions: { adminManagedRestrictions: false, copyRequiresWriterPermission: false, domainUsersOnly: false, driveMembersOnly: false },
    capabilities: { canAddChildren: true, canListChildren: true, canManageMembers: true, canRenameDrive: true, canDeleteDrive: true, canShare: true },
  };
}

const drivesList: Handler = (req, env) => {
  const d = env.state.drive;
  const admin = boolParam(req.query, 'useDomainAdminAccess');
  if (admin && !env.state.users.get(req.user)?.isAdmin) throw forbidden('The user does not have sufficient permissions for this operation.', 'forbidden');
  const size = intParam(req.query, 'pageSize', 10, 1, 100, true);
  const qtext = req.query.get('q') ?? '';
  const m = /^\s*name\s*(=|contains)\s*'((?:[^'\\]|\\.)*)'\s*$/.exec(qtext);
  if (qtext && !m) throw badRequest(`Invalid Value: q=${qtext} (the emulator searches drives by name = or name contains)`, 'invalid', 'q');
  const fingerprint = JSON.stringify([admin, qtext]);
  const offset = readPageToken(req.query.get('pageToken'), fingerprint);
  const all = [...d.drives.values()]
    .filter((x) => admin || d.isMember(req.user, x))
    .filter((x) => !m || (m[1] === '=' ? x.name === (m[2] as string).replace(/\\(.)/g, '$1') : x.name.toLowerCase().includes((m[2] as string).toLowerCase())))
    .sort((a, b) => (a.createdTime < b.createdTime ? -1 : a.createdTime > b.createdTime ? 1 : a.id < b.id ? -1 : 1));
  const out: drive_v3.Schema$DriveList = { kind: 'drive#driveList', drives: all.slice(offset, offset + size).map(driveResource) };
  if (offset + size < all.length) out.nextPageToken = pageToken(offset + size, fingerprint);
  return json(200, out);
};

const drivesGet: Handler = (req, env) => {
  const d = env.state.drive;
  const drive = d.drives.get(req.params.driveId as string);
  const admin = boolParam(req.query, 'useDomainAdminAccess') && !!env.state.users.get(req.user)?.isAdmin;
  if (!drive || (!admin && !d.isMember(req.user, drive))) throw driveNotFound(req.params.driveId as string);
  return json(200, driveResource(drive));
};

export function createSharedDrive(env: EmulatorEnv, creator: string, name: string, at = env.state.iso()): SharedDrive {
  const d = env.state.drive;
  const id = env.state.newId('drive');
  const drive: SharedDrive = { id, name, createdTime: at, hidden: false, members: [] };
  drive.members.push({ kind: 'drive#permission', id: DriveState.permissionId('user', creator), type: 'user', role: 'organizer', emailAddress: creator, displayName: displayName(env, creator), deleted: false, pendingOwner: false });
  d.drives.set(id, drive);
  // The drive's root folder has the drive's id.
  d.files.set(id, { id, name, mimeType: NATIVE.folder, parents: [], driveId: id, createdTime: at, modifiedTime: at, version: 1, trashed: false, appProperties: {}, properties: {}, starred: false, permissions: [], lastModifyingUser: creator, seenBy: new Set([creator]) });
  return drive;
}

const drivesCreate: Handler = (req, env) => {
  const d = env.state.drive;
  const requestId = requireParam(req.query, 'requestId');
  const key = `${req.user} ${requestId}`;
  if (d.driveRequests.has(key)) throw new ApiError(409, 'A shared drive with this request ID already exists.', 'duplicate');
  const name = str(req.body.name, 'name');
  if (!name) throw required('drive.name');
  const drive = createSharedDrive(env, req.user, name);
  d.driveRequests.set(key, drive.id);
  return json(200, driveResource(drive));
};

const drivesDelete: Handler = (req, env) => {
  const d = env.state.drive;
  const drive = d.drives.get(req.params.driveId as string);
  if (!drive || !d.isMember(req.user, drive)) throw driveNotFound(req.params.driveId as string);
  if ([...d.files.values()].some((f) => f.driveId === drive.id && f.id !== drive.id)) throw forbidden('The shared drive cannot be deleted because it contains one or more items.', 'cannotDeleteResourceWithChildren');
  d.drives.delete(drive.id);
  d.files.delete(drive.id);
  return noContent();
};

const aboutGet: Handler = (req, env) => {
  if (!req.query.get('fields')) throw badRequest("The 'fields' parameter is required for this method.", 'required', 'fields');
  const about: drive_v3.Schema$About = {
    kind: 'drive#about',
    user: driveUser(env, req.user, req.user),
    storageQuota: { usage: '0', usageInDrive: '0', usageInDriveTrash: '0' },
    importFormats: IMPORT_FORMATS,
    exportFormats: EXPORT_FORMATS,
    maxUploadSize: '5497558138880',
    appInstalled: false,
    canCreateDrives: true,
  };
  return json(200, about);
};

export const driveHandlers: Record<string, Handler> = {
  'drive.about.get': aboutGet,
  'drive.files.list': filesList,
  'drive.files.get': filesGet,
  'drive.files.create': filesCreate,
  'drive.files.update': filesUpdate,
  'drive.files.delete': filesDelete,
  'drive.files.export': filesExport,
  'drive.permissions.list': permissionsList,
  'drive.permissions.get': permissionsGet,
  'drive.permissions.create': permissionsCreate,
  'drive.permissions.delete': permissionsDelete,
  'drive.changes.getStartPageToken': changesStart,
  'drive.changes.list': changesList,
  'drive.drives.list': drivesList,
  'drive.drives.get': drivesGet,
  'drive.drives.create': drivesCreate,
  'drive.drives.delete': drivesDelete,
};

