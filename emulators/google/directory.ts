/** Admin SDK Directory API v1 handlers: users, groups, members. Callers must be domain admins. */
import type { admin_directory_v1 } from 'googleapis';
import { ApiError, badRequest, conflict, invalidParam } from './errors.js';
import { intParam, json, noContent, pageToken, readPageToken, type EmulatorEnv, type Handler, type Req } from './http.js';
import type { GroupRec } from './state.js';

const userNotFound = (): ApiError => new ApiError(404, 'Resource Not Found: userKey', 'notFound', { status: null });
const groupNotFound = (): ApiError => new ApiError(404, 'Resource Not Found: groupKey', 'notFound', { status: null });
const memberNotFound = (): ApiError => new ApiError(404, 'Resource Not Found: memberKey', 'notFound', { status: null });

function checkScope(req: Req, env: EmulatorEnv): void {
  const customer = req.query.get('customer');
  const domain = req.query.get('domain');
  if (!customer && !domain) throw badRequest('Bad Request', 'badRequest');
  if (customer && customer !== 'my_customer' && customer !== env.state.customerId) throw new ApiError(404, 'Resource Not Found: customer', 'notFound', { status: null });
  if (domain && domain.toLowerCase() !== env.state.domain) throw new ApiError(403, 'Not Authorized to access this resource/api', 'forbidden', { status: null });
}

function page<T>(req: Req, items: T[], def: number, max: number, fingerprint: string): { items: T[]; next?: string } {
  const size = intParam(req.query, 'maxResults', def, 1, max);
  const offset = readPageToken(req.query.get('pageToken'), fingerprint);
  const out: { items: T[]; next?: string } = { items: items.slice(offset, offset + size) };
  if (offset + size < items.length) out.next = pageToken(offset + size, fingerprint);
  return out;
}

function user(env: EmulatorEnv, key: string): admin_directory_v1.Schema$User {
  const u = env.state.userByKey(key);
  if (!u) throw userNotFound();
  return u;
}

function group(env: EmulatorEnv, key: string): GroupRec {
  const g = env.state.groupByKey(key);
  if (!g) throw groupNotFound();
  return g;
}

const usersList: Handler = (req, env) => {
  checkScope(req, env);
  const orderBy = req.query.get('orderBy') ?? 'email';
  if (!['email', 'familyName', 'givenName'].includes(orderBy)) throw invalidParam('orderBy', orderBy);
  const desc = req.query.get('sortOrder') === 'DESCENDING';
  const query = req.query.get('query') ?? '';
  const qm = /^(?:email|primaryEmail)[:=]'?([^'\s]+)'?\*?$/.exec(query.trim());
  if (query && !qm) throw badRequest(`Invalid Input: query (the emulator serves email:PREFIX), got ${query}`, 'invalid');
  const key = (u: admin_directory_v1.Schema$User): string => (orderBy === 'email' ? (u.primaryEmail ?? '') : orderBy === 'familyName' ? (u.name?.familyName ?? '') : (u.name?.givenName ?? '')).toLowerCase();
  const all = [...env.state.users.values()]
    .filter((u) => !qm || (u.primaryEmail ?? '').startsWith((qm[1] as string).toLowerCase()))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (desc ? -1 : 1));
  const p = page(req, all, 100, 500, JSON.stringify([orderBy, desc, query]));
  const out: admin_directory_v1.Schema$Users = { kind: 'admin#directory#users', etag: env.state.etag(), users: p.items.map((u) => structuredClone(u)) };
  if (p.next) out.nextPageToken = p.next;
  return json(200, out);
};

const usersGet: Handler = (req, env) => json(200, structuredClone(user(env, req.params.userKey as string)));

const usersInsert: Handler = (req, env) => {
  const b = req.body as admin_directory_v1.Schema$User;
  const email = typeof b.primaryEmail === 'string' ? b.primaryEmail.toLowerCase() : '';
  if (!email) throw badRequest('Invalid Input: primary_user_email', 'invalid');
  if (!email.endsWith('@' + env.state.domain)) throw new ApiError(400, 'Invalid Input: primary_user_email (the domain is not a domain of this customer)', 'invalid', { status: null });
  if (!b.name?.givenName || !b.name.familyName) throw badRequest('Invalid Given/Family Name: ', 'invalid');
  if (typeof b.password !== 'string' || b.password.length < 8) throw badRequest('Invalid Password', 'invalid');
  if (env.state.userByKey(email) || env.state.groups.has(email)) throw conflict('Entity already exists.');
  const u = env.state.createUser({ primaryEmail: email, givenName: b.name.givenName, familyName: b.name.familyName, orgUnitPath: b.orgUnitPath ?? '/', suspended: b.suspended ?? false });
  if (b.changePasswordAtNextLogin) u.changePasswordAtNextLogin = true;
  return json(200, structuredClone(u));
};

function updateUser(replace: boolean): Handler {
  return (req, env) => {
    const u = user(env, req.params.userKey as string);
    const b = req.body as admin_directory_v1.Schema$User;
    if (b.name) {
      const name = replace ? { ...b.name } : { ...u.name, ...b.name };
      name.fullName = `${name.givenName ?? ''} ${name.familyName ?? ''}`.trim();
      u.name = name;
    }
    if (typeof b.suspended === 'boolean') u.suspended = b.suspended;
    if (typeof b.orgUnitPath === 'string') u.orgUnitPath = b.orgUnitPath;
    if (typeof b.changePasswordAtNextLogin === 'boolean') u.changePasswordAtNextLogin = b.changePasswordAtNextLogin;
    if (b.primaryEmail && b.primaryEmail.toLowerCase() !== u.primaryEmail) throw badRequest('The emulator does not rename users.', 'invalid');
    env.state.touchUser(u);
    return json(200, structuredClone(u));
  };
}

const usersDelete: Handler = (req, env) => {
  const u = user(env, req.params.userKey as string);
  if (u.primaryEmail === req.user) throw new ApiError(412, 'Cannot delete the current user.', 'conditionNotMet', { status: null });
  env.state.deleteUser(u.primaryEmail as string);
  return noContent();
};

const groupsList: Handler = (req, env) => {
  const userKey = req.query.get('userKey');
  if (!userKey) checkScope(req, env);
  const all = [...env.state.groups.values()]
    .filter((g) => !userKey || g.members.has(userKey.toLowerCase()))
    .map((g) => g.group)
    .sort((a, b) => ((a.email ?? '') < (b.email ?? '') ? -1 : 1));
  const p = page(req, all, 200, 200, JSON.stringify([userKey]));
  const out: admin_directory_v1.Schema$Groups = { kind: 'admin#directory#groups', etag: env.state.etag(), groups: p.items.map((g) => structuredClone(g)) };
  if (p.next) out.nextPageToken = p.next;
  return json(200, out);
};

const groupsGet: Handler = (req, env) => json(200, structuredClone(group(env, req.params.groupKey as string).group));

const groupsInsert: Handler = (req, env) => {
  const b = req.body as admin_directory_v1.Schema$Group;
  const email = typeof b.email === 'string' ? b.email.toLowerCase() : '';
  if (!email) throw badRequest('Missing required field: email', 'required');
  if (!email.endsWith('@' + env.state.domain)) throw new ApiError(400, 'Invalid Input: email (the domain is not a domain of this customer)', 'invalid', { status: null });
  if (env.state.groups.has(email) || env.state.users.has(email)) throw conflict('Entity already exists.');
  const g = env.state.createGroup({ email, name: b.name ?? email.split('@')[0] ?? email, description: b.description ?? '' });
  return json(200, structuredClone(g.group));
};

const groupsPatch: Handler = (req, env) => {
  const g = group(env, req.params.groupKey as string);
  const b = req.body as admin_directory_v1.Schema$Group;
  if (typeof b.name === 'string') g.group.name = b.name;
  if (typeof b.description === 'string') g.group.description = b.description;
  g.group.etag = env.state.etag();
  return json(200, structuredClone(g.group));
};

const groupsDelete: Handler = (req, env) => {
  const g = group(env, req.params.groupKey as string);
  env.state.groups.delete(g.group.email as string);
  return noContent();
};

const ROLES = ['OWNER', 'MANAGER', 'MEMBER'];

const membersList: Handler = (req, env) => {
  const g = group(env, req.params.groupKey as string);
  const roles = (req.query.get('roles') ?? '').split(',').filter(Boolean);
  for (const r of roles) if (!ROLES.includes(r)) throw invalidParam('roles', r);
  const all = [...g.members.values()].filter((m) => !roles.length || roles.includes(m.role ?? 'MEMBER')).sort((a, b) => ((a.email ?? '') < (b.email ?? '') ? -1 : 1));
  const p = page(req, all, 200, 200, JSON.stringify([g.group.id, roles]));
  const out: admin_directory_v1.Schema$Members = { kind: 'admin#directory#members', etag: env.state.etag(), members: p.items.map((m) => structuredClone(m)) };
  if (p.next) out.nextPageToken = p.next;
  return json(200, out);
};

function member(g: GroupRec, env: EmulatorEnv, key: string): admin_directory_v1.Schema$Member {
  const k = key.toLowerCase();
  const m = g.members.get(k) ?? [...g.members.values()].find((x) => x.id === key);
  if (!m) throw memberNotFound();
  return m;
}

const membersGet: Handler = (req, env) => {
  const g = group(env, req.params.groupKey as string);
  return json(200, structuredClone(member(g, env, req.params.memberKey as string)));
};

const membersInsert: Handler = (req, env) => {
  const g = group(env, req.params.groupKey as string);
  const b = req.body as admin_directory_v1.Schema$Member;
  const email = typeof b.email === 'string' ? b.email.toLowerCase() : '';
  if (!email) throw badRequest('Missing required field: memberKey', 'required');
  if (b.role && !ROLES.includes(b.role)) throw badRequest(`Invalid Input: role ${b.role}`, 'invalid');
  if (g.members.has(email)) throw conflict('Member already exists.');
  if (email.endsWith('@' + env.state.domain) && !env.state.users.has(email) && !env.state.groups.has(email)) throw new ApiError(404, 'Resource Not Found: memberKey', 'notFound', { status: null });
  const spec: { email: string; role?: string; type?: string } = { email };
  if (b.role) spec.role = b.role;
  if (b.type) spec.type = b.type;
  return json(200, structuredClone(env.state.addMember(g, spec)));
};

const membersDelete: Handler = (req, env) => {
  const g = group(env, req.params.groupKey as string);
  const m = member(g, env, req.params.memberKey as string);
  env.state.removeMember(g, m.email as string);
  return noContent();
};

export const directoryHandlers: Record<string, Handler> = {
  'directory.users.list': usersList,
  'directory.users.get': usersGet,
  'directory.users.insert': usersInsert,
  'directory.users.update': updateUser(true),
  'directory.users.patch': updateUser(false),
  'directory.users.delete': usersDelete,
  'directory.groups.list': groupsList,
  'directory.groups.get': groupsGet,
  'directory.groups.insert': groupsInsert,
  'directory.groups.patch': groupsPatch,
  'directory.groups.delete': groupsDelete,
  'directory.members.list': membersList,
  'directory.members.get': membersGet,
  'directory.members.insert': membersInsert,
  'directory.members.delete': membersDelete,
};
