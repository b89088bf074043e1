/**
 * Outlook personal contacts: the default Contacts folder (its id is the parentFolderId of its
 * contacts and of the top-level contactFolders; /users/{id}/contacts addresses it), contact folders
 * (list, child folders, delta), contacts (list, create, get, update, delete, delta per folder).
 */
import type * as MSGraph from '@microsoft/microsoft-graph-types';
import {
  type ApiRequest, type ApiResponse, type DeltaEntry, type RouteDef, GraphApiError, badRequest, created, deltaPage, expandedExtendedIds,
  jsonBody, listPage, noContent, notFound, ok, parseFilter, renderExtended, syncStateNotFound,
} from './http.js';
import type { ContactFolderState, ContactState, Json, Mailbox, UserState } from './state.js';

const STRING_FIELDS = [
  'givenName', 'surname', 'middleName', 'displayName', 'nickName', 'title', 'initials', 'generation', 'fileAs', 'mobilePhone', 'jobTitle', 'companyName',
  'department', 'officeLocation', 'profession', 'manager', 'assistantName', 'spouseName', 'personalNotes', 'businessHomePage', 'yomiGivenName',
  'yomiSurname', 'yomiCompanyName',
] as const;
const LIST_FIELDS = ['businessPhones', 'homePhones', 'imAddresses', 'children'] as const;
const ADDRESS_FIELDS = ['homeAddress', 'businessAddress', 'otherAddress'] as const;

export function readContactFields(b: Record<string, unknown>, base: Json = {}): Json {
  const out: Json = { ...base };
  for (const k of STRING_FIELDS) {
    if (b[k] === undefined) continue;
    if (b[k] !== null && typeof b[k] !== 'string') throw badRequest(`Contact property ${k} must be a string.`, 'RequestBodyRead');
    out[k] = b[k];
  }
  for (const k of LIST_FIELDS) {
    if (b[k] === undefined) continue;
    if (!Array.isArray(b[k])) throw badRequest(`Contact property ${k} must be a collection of strings.`, 'RequestBodyRead');
    out[k] = (b[k] as unknown[]).map(String);
  }
  for (const k of ADDRESS_FIELDS) {
    if (b[k] === undefined) continue;
    const a = (b[k] ?? {}) as Record<string, unknown>;
    out[k] = Object.fromEntries(['street', 'city', 'state', 'countryOrRegion', 'postalCode'].filter((x) => typeof a[x] === 'string').map((x) => [x, a[x]]));
  }
  if (b.emailAddresses !== undefined) {
    if (!Array.isArray(b.emailAddresses)) throw badRequest('emailAddresses must be a collection.', 'RequestBodyRead');
    out.emailAddresses = (b.emailAddresses as Array<{ name?: unknown; address?: unknown }>).map((e) => {
      if (typeof e?.address !== 'string') throw badRequest('Every emailAddresses entry needs an address.', 'ErrorInvalidRequest');
      return { name: typeof e.name === 'string' ? e.name : e.address, address: e.address };
    });
  }
  if (b.birthday !== undefined) {
    if (b.birthday !== null && (typeof b.birthday !== 'string' || !Number.isFinite(Date.parse(b.birthday)))) throw badRequest('birthday must be an ISO 8601 date-time.', 'RequestBodyRead');
    out.birthday = b.birthday === null ? null : new Date(Date.parse(b.birthday as string)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return out;
}

function renderContact(req: ApiRequest, c: ContactState): MSGraph.Contact & Record<string, unknown> {
  const f = c.fields;
  const s = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : null);
  const l = (k: string) => (Array.isArray(f[k]) ? (f[k] as string[]) : []);
  const a = (k: string) => (f[k] && typeof f[k] === 'object' ? (f[k] as MSGraph.PhysicalAddress) : {});
  const display = s('displayName') ?? [s('givenName'), s('surname')].filter(Boolean).join(' ');
  const out: MSGraph.Contact & Record<string, unknown> = {
    '@odata.etag': `W/"${c.changeKey}"`,
    id: c.id,
    createdDateTime: c.createdDateTime,
    lastModifiedDateTime: c.lastModifiedDateTime,
    changeKey: c.changeKey,
    categories: [...c.categories],
    parentFolderId: c.folderId,
    birthday: (f.birthday as string | null | undefined) ?? null,
    fileAs: s('fileAs') ?? '',
    displayName: display,
    givenName: s('givenName'),
    initials: s('initials'),
    middleName: s('middleName'),
    nickName: s('nickName'),
    surname: s('surname'),
    title: s('title'),
    yomiGivenName: s('yomiGivenName'),
    yomiSurname: s('yomiSurname'),
    yomiCompanyName: s('yomiCompanyName'),
    generation: s('generation'),
    imAddresses: l('imAddresses'),
    jobTitle: s('jobTitle'),
    companyName: s('companyName'),
    department: s('department'),
    officeLocation: s('officeLocation'),
    profession: s('profession'),
    businessHomePage: s('businessHomePage'),
    assistantName: s('assistantName'),
    manager: s('manager'),
    homePhones: l('homePhones'),
    mobilePhone: s('mobilePhone'),
    businessPhones: l('businessPhones'),
    spouseName: s('spouseName'),
    personalNotes: s('personalNotes') ?? '',
    children: l('children'),
    emailAddresses: Array.isArray(f.emailAddresses) ? (f.emailAddresses as MSGraph.EmailAddress[]) : [],
    homeAddress: a('homeAddress'),
    businessAddress: a('businessAddress'),
    otherAddress: a('otherAddress'),
  };
  Object.assign(out, renderExtended(c.extended, expandedExtendedIds(req.query)));
  return out;
}

function renderFolder(f: ContactFolderState): MSGraph.ContactFolder & Record<string, unknown> {
  return { id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId };
}

function readExt(v: unknown): Map<string, string> {
  const ext = new Map<string, string>();
  if (!Array.isArray(v)) return ext;
  for (const p of v as Array<{ id?: unknown; value?: unknown }>) {
    if (typeof p?.id !== 'string' || typeof p.value !== 'string') throw badRequest('An extended property needs a string id and a string value.', 'ErrorInvalidExtendedProperty');
    ext.set(p.id, p.value);
  }
  return ext;
}

export function contactRoutes(): RouteDef[] {
  const R = (method: string, path: string, handler: RouteDef['handler']): RouteDef => ({ method, path, handler, mailbox: true });
  const mbOf = (req: ApiRequest): Mailbox => (req.user as UserState).mailbox;
  /** The folder a path names; the default Contacts folder is addressable by its id. */
  const folderId = (req: ApiRequest): string => {
    const mb = mbOf(req);
    const id = req.params.folder as string;
    if (id === mb.contactRootId || mb.contactFolders.has(id)) return id;
    throw notFound('The specified folder could not be found in the store.', 'ErrorItemNotFound');
  };
  const contactOr404 = (req: ApiRequest, inFolder?: string): ContactState => {
    const c = mbOf(req).contacts.get(req.params.contact as string);
    if (!c || (inFolder !== undefined && c.folderId !== inFolder)) throw notFound();
    return c;
  };
  const list = (req: ApiRequest, fid: string): ApiResponse => {
    const pred = parseFilter(req.query.get('$filter'));
    let items = [...mbOf(req).contacts.values()].filter((c) => c.folderId === fid);
    if (pred) items = items.filter((c) => pred({ ext: c.extended, props: { displayName: String(c.fields.displayName ?? ''), id: c.id } }));
    return listPage(req, items, (c) => renderContact(req, c), 10, 1000);
  };
  const create = (req: ApiRequest, fid: string): ApiResponse => {
    const b = jsonBody(req);
    const c = req.tenant.addContact(mbOf(req), fid, readContactFields(b), Array.isArray(b.categories) ? (b.categories as unknown[]).map(String) : [], readExt(b.singleValueExtendedProperties));
    return created(renderContact(req, c));
  };
  const update = (req: ApiRequest, c: ContactState): ApiResponse => {
    const b = jsonBody(req);
    c.fields = readContactFields(b, c.fields);
    if (Array.isArray(b.categories)) c.categories = (b.categories as unknown[]).map(String);
    for (const [k, v] of readExt(b.singleValueExtendedProperties)) c.extended.set(k, v);
    req.tenant.touchContact(c);
    return ok(renderContact(req, c));
  };
  const createFolder = (req: ApiRequest, parent: string): ApiResponse => {
    const mb = mbOf(req);
    const b = jsonBody(req);
    if (typeof b.displayName !== 'string' || !b.displayName.trim()) throw badRequest('displayName is required for a contact folder.', 'ErrorInvalidProperty');
    for (const f of mb.contactFolders.values()) {
      if (f.parentFolderId === parent && f.displayName.toLowerCase() === b.displayName.toLowerCase()) throw new GraphApiError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
    }
    return created(renderFolder(req.tenant.addContactFolder(mb, parent, b.displayName)));
  };
  const contactsDelta = (req: ApiRequest, fid: string): ApiResponse => {
    const mb = mbOf(req);
    return deltaPage(req, {
      collection: `contacts:${(req.user as UserState).id}:${fid}`,
      defaultPageSize: 10,
      maxPageSize: 1000,
      tokenParam: '$deltatoken',
      expired: syncStateNotFound,
      entries: (since, upto, full) => {
        const out: DeltaEntry[] = [];
        for (const c of mb.contacts.values()) if (c.folderId === fid && c.seq > since && c.seq <= upto) out.push({ seq: c.seq, id: c.id, render: () => renderContact(req, c) });
        if (!full) {
          for (const x of mb.contactTombstones) {
            if (x.folderId === fid && x.seq > since && x.seq <= upto) out.push({ seq: x.seq, id: x.id, render: () => ({ '@odata.type': '#microsoft.graph.contact', id: x.id, '@removed': { reason: 'deleted' } }) });
          }
        }
        return out;
      },
    });
  };

  const routes: RouteDef[] = [
    R('GET', '/users/{user}/contactFolders', (req) => {
      const mb = mbOf(req);
      return listPage(req, [...mb.contactFolders.values()].filter((f) => f.parentFolderId === mb.contactRootId), renderFolder, 10, 1000);
    }),
    R('POST', '/users/{user}/contactFolders', (req) => createFolder(req, mbOf(req).contactRootId)),
    R('GET', '/users/{user}/contactFolders/delta', (req) => {
      const mb = mbOf(req);
      return deltaPage(req, {
        collection: `contactFolders:${(req.user as UserState).id}`,
        defaultPageSize: 100,
        tokenParam: '$deltatoken',
        expired: syncStateNotFound,
        entries: (since, upto, full) => {
          const out: DeltaEntry[] = [];
          for (const f of mb.contactFolders.values()) if (f.seq > since && f.seq <= upto) out.push({ seq: f.seq, id: f.id, render: () => renderFolder(f) });
          if (!full) for (const x of mb.contactFolderTombstones) if (x.seq > since && x.seq <= upto) out.push({ seq: x.seq, id: x.id, render: () => ({ id: x.id, '@removed': { reason: 'deleted' } }) });
          return out;
        },
      });
    }),
    R('GET', '/users/{user}/contactFolders/{folder}', (req) => {
      const mb = mbOf(req);
      const id = folderId(req);
      if (id === mb.contactRootId) return ok({ id, displayName: 'Contacts', parentFolderId: null });
      return ok(renderFolder(mb.contactFolders.get(id) as ContactFolderState));
    }),
    R('PATCH', '/users/{user}/contactFolders/{folder}', (req) => {
      const mb = mbOf(req);
      const f = mb.contactFolders.get(folderId(req));
      if (!f) throw new GraphApiError(403, 'ErrorCannotRenameDistinguishedFolder', 'The default Contacts folder cannot be renamed.');
      const b = jsonBody(req);
      if (typeof b.displayName === 'string' && b.displayName.trim()) f.displayName = b.displayName;
      f.seq = req.tenant.nextSeq();
      return ok(renderFolder(f));
    }),
    R('DELETE', '/users/{user}/contactFolders/{folder}', (req) => {
      const mb = mbOf(req);
      const id = folderId(req);
      if (id === mb.contactRootId) throw new GraphApiError(403, 'ErrorDeleteDistinguishedFolder', 'The default Contacts folder cannot be deleted.');
      req.tenant.deleteContactFolder(mb, id);
      return noContent();
    }),
    R('GET', '/users/{user}/contactFolders/{folder}/childFolders', (req) => {
      const id = folderId(req);
      return listPage(req, [...mbOf(req).contactFolders.values()].filter((f) => f.parentFolderId === id), renderFolder, 10, 1000);
    }),
    R('POST', '/users/{user}/contactFolders/{folder}/childFolders', (req) => createFolder(req, folderId(req))),
    R('GET', '/users/{user}/contactFolders/{folder}/contacts/delta', (req) => contactsDelta(req, folderId(req))),
    R('GET', '/users/{user}/contactFolders/{folder}/contacts', (req) => list(req, folderId(req))),
    R('POST', '/users/{user}/contactFolders/{folder}/contacts', (req) => create(req, folderId(req))),
    R('GET', '/users/{user}/contactFolders/{folder}/contacts/{contact}', (req) => ok(renderContact(req, contactOr404(req, folderId(req))))),
    R('PATCH', '/users/{user}/contactFolders/{folder}/contacts/{contact}', (req) => update(req, contactOr404(req, folderId(req)))),
    R('DELETE', '/users/{user}/contactFolders/{folder}/contacts/{contact}', (req) => {
      req.tenant.deleteContact(mbOf(req), contactOr404(req, folderId(req)).id);
      return noContent();
    }),
    R('GET', '/users/{user}/contacts', (req) => list(req, mbOf(req).contactRootId)),
    R('POST', '/users/{user}/contacts', (req) => create(req, mbOf(req).contactRootId)),
    R('GET', '/users/{user}/contacts/{contact}', (req) => ok(renderContact(req, contactOr404(req)))),
    R('PATCH', '/users/{user}/contacts/{contact}', (req) => update(req, contactOr404(req))),
    R('DELETE', '/users/{user}/contacts/{contact}', (req) => {
      req.tenant.deleteContact(mbOf(req), contactOr404(req).id);
      return noContent();
    }),
  ];
  return routes;
}
