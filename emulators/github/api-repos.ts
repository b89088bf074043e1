/**
 * Organisations, repositories, branches, tags, git refs, the authenticated user, rate limit and
 * GitHub App installation tokens.
 */
import {
  ApiError, actor, bodyObject, created, field, listResponse, noContent, notFound, ok, oneOf, permissionsFor, repoFor, required,
  sortBy, validationFailed, type ApiRequest, type RouteDef,
} from './http.js';
import * as R from './render.js';
import type { Repo } from './state.js';

const D = {
  rateLimit: 'https://docs.github.com/rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user',
  user: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
  getUser: 'https://docs.github.com/rest/users/users#get-a-user',
  org: 'https://docs.github.com/rest/orgs/orgs#get-an-organization',
  members: 'https://docs.github.com/rest/orgs/members#list-organization-members',
  orgRepos: 'https://docs.github.com/rest/repos/repos#list-organization-repositories',
  createOrgRepo: 'https://docs.github.com/rest/repos/repos#create-an-organization-repository',
  userRepos: 'https://docs.github.com/rest/repos/repos#list-repositories-for-the-authenticated-user',
  createUserRepo: 'https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user',
  getRepo: 'https://docs.github.com/rest/repos/repos#get-a-repository',
  updateRepo: 'https://docs.github.com/rest/repos/repos#update-a-repository',
  deleteRepo: 'https://docs.github.com/rest/repos/repos#delete-a-repository',
  branches: 'https://docs.github.com/rest/branches/branches#list-branches',
  tags: 'https://docs.github.com/rest/repos/repos#list-repository-tags',
  createRef: 'https://docs.github.com/rest/git/refs#create-a-reference',
  getRef: 'https://docs.github.com/rest/git/refs#get-a-reference',
  updateRef: 'https://docs.github.com/rest/git/refs#update-a-reference',
  deleteRef: 'https://docs.github.com/rest/git/refs#delete-a-reference',
  installationToken: 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app',
  app: 'https://docs.github.com/rest/apps/apps#get-the-authenticated-app',
  installations: 'https://docs.github.com/rest/apps/apps#list-installations-for-the-authenticated-app',
  orgInstallation: 'https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app',
};

/** The "installation" object of a GitHub App. */
function installation(req: ApiRequest, appId: number, installationId: number): Record<string, unknown> {
  const st = req.ctx.state;
  const app = st.apps.get(appId);
  const inst = app?.installations.get(installationId);
  if (!app || !inst) throw notFound(req.docs);
  const org = st.org(inst.account);
  return {
    id: inst.id,
    account: org ? R.orgAsUser(req.ctx, org) : null,
    repository_selection: 'all',
    access_tokens_url: `${req.ctx.api}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${req.ctx.api}/installation/repositories`,
    html_url: `${req.ctx.web}/organizations/${inst.account}/settings/installations/${inst.id}`,
    app_id: app.id,
    app_slug: app.slug,
    target_id: org?.id ?? 0,
    target_type: 'Organization',
    permissions: inst.permissions,
    events: [],
    created_at: R.iso(org?.createdAt ?? 0),
    updated_at: R.iso(org?.updatedAt ?? 0),
    single_file_name: null,
    suspended_by: null,
    suspended_at: null,
  };
}

function repoSortKey(sort: string): (r: Repo) => number {
  if (sort === 'updated') return (r) => r.updatedAt;
  if (sort === 'pushed') return (r) => r.pushedAt;
  return (r) => r.createdAt;
}

function sortRepos(req: ApiRequest, repos: Repo[], defaultSort: 'created' | 'full_name'): Repo[] {
  const sort = oneOf(req, req.query.get('sort'), ['created', 'updated', 'pushed', 'full_name'] as const, 'sort', defaultSort);
  const direction = oneOf(req, req.query.get('direction'), ['asc', 'desc'] as const, 'direction', sort === 'full_name' ? 'asc' : 'desc');
  if (sort === 'full_name') {
    const sign = direction === 'asc' ? 1 : -1;
    return [...repos].sort((a, b) => sign * `${a.owner}/${a.name}`.toLowerCase().localeCompare(`${b.owner}/${b.name}`.toLowerCase()));
  }
  return sortBy(repos, repoSortKey(sort), direction, (r) => r.id);
}

const REPO_NAME = /^[A-Za-z0-9._-]+$/;

async function createRepoFromBody(req: ApiRequest, owner: string): Promise<Repo> {
  const b = bodyObject(req);
  const rawName = required<string>(req, b, 'name', ['string']).trim();
  const name = rawName.replace(/[^A-Za-z0-9._-]/g, '-');
  if (!REPO_NAME.test(name) || name === '.' || name === '..') {
    throw validationFailed(req.docs, [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name is invalid' }], 'Repository creation failed.');
  }
  const st = req.ctx.state;
  if (st.repo(owner, name)) {
    throw validationFailed(req.docs, [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name already exists on this account' }], 'Repository creation failed.');
  }
  const visibility = field<string>(req, b, 'visibility', ['string']);
  if (visibility !== undefined && !['public', 'private', 'internal'].includes(visibility)) {
    throw validationFailed(req.docs, [{ resource: 'Repository', code: 'invalid', field: 'visibility', value: visibility }]);
  }
  return req.svc.ops.createRepo(owner, name, {
    description: field<string | null>(req, b, 'description', ['string'], true) ?? null,
    homepage: field<string | null>(req, b, 'homepage', ['string'], true) ?? null,
    private: field<boolean>(req, b, 'private', ['boolean']) ?? false,
    visibility: visibility as Repo['visibility'] | undefined,
    hasIssues: field<boolean>(req, b, 'has_issues', ['boolean']) ?? true,
    hasProjects: field<boolean>(req, b, 'has_projects', ['boolean']) ?? true,
    hasWiki: field<boolean>(req, b, 'has_wiki', ['boolean']) ?? true,
    hasDiscussions: field<boolean>(req, b, 'has_discussions', ['boolean']) ?? false,
    isTemplate: field<boolean>(req, b, 'is_template', ['boolean']) ?? false,
    autoInit: field<boolean>(req, b, 'auto_init', ['boolean']) ?? false,
    creator: actor(req),
  });
}

export function repoRoutes(): RouteDef[] {
  return [
    {
      method: 'GET', path: '/rate_limit', docs: D.rateLimit, free: true,
      handler: (req) => {
        const core = req.svc.rate(req.identity);
        const rl = (limit: number, used = 0) => ({ limit, used, remaining: limit - used, reset: core.reset });
        return ok({
          resources: {
            core: { ...core, resource: undefined },
            search: rl(30),
            graphql: rl(5000),
            integration_manifest: rl(5000),
            source_import: rl(100),
            code_scanning_upload: rl(1000),
            actions_runner_registration: rl(10000),
            scim: rl(15000),
            dependency_snapshots: rl(100),
            code_search: rl(10),
          },
          rate: { limit: core.limit, remaining: core.remaining, reset: core.reset, used: core.used },
        });
      },
    },
    {
      method: 'GET', path: '/user', docs: D.user,
      handler: (req) => {
        const id = req.identity;
        if (id.kind === 'anonymous') throw new ApiError(401, 'Requires authentication', req.docs);
        if (id.kind !== 'user') throw new ApiError(403, 'Resource not accessible by integration', req.docs);
        return ok(R.privateUser(req.ctx, id.user));
      },
    },
    {
      method: 'GET', path: '/users/{username}', docs: D.getUser,
      handler: (req) => {
        const st = req.ctx.state;
        const org = st.org(req.params.username ?? '');
        if (org) return ok({ ...R.orgAsUser(req.ctx, org), name: org.name, company: null, blog: null, location: null, email: null, hireable: null, bio: org.description, public_repos: 0, public_gists: 0, followers: 0, following: 0, created_at: R.iso(org.createdAt), updated_at: R.iso(org.updatedAt) });
        const u = st.user(req.params.username ?? '');
        if (!u) throw notFound(req.docs);
        const p = R.privateUser(req.ctx, u);
        return ok({ ...R.simpleUser(req.ctx, u), name: p.name, company: null, blog: null, location: null, email: p.email, hireable: null, bio: null, public_repos: p.public_repos, public_gists: 0, followers: 0, following: 0, created_at: p.created_at, updated_at: p.updated_at });
      },
    },
    {
      method: 'GET', path: '/orgs/{org}', docs: D.org,
      handler: (req) => {
        const org = req.ctx.state.org(req.params.org ?? '');
        if (!org) throw notFound(req.docs);
        return ok(R.organizationFull(req.ctx, org));
      },
    },
    {
      method: 'GET', path: '/orgs/{org}/members', docs: D.members,
      handler: (req) => {
        const st = req.ctx.state;
        const org = st.org(req.params.org ?? '');
        if (!org) throw notFound(req.docs);
        const role = oneOf(req, req.query.get('role'), ['all', 'admin', 'member'] as const, 'role', 'all');
        const users = [...org.members.entries()]
          .filter(([, r]) => role === 'all' || r === role)
          .map(([login]) => st.user(login))
          .filter((u) => u !== undefined)
          .sort((a, b) => a.id - b.id);
        return listResponse(req, users, (u) => R.simpleUser(req.ctx, u));
      },
    },
    {
      method: 'GET', path: '/orgs/{org}/repos', docs: D.orgRepos,
      handler: (req) => {
        const st = req.ctx.state;
        const org = st.org(req.params.org ?? '');
        if (!org) throw notFound(req.docs);
        const type = oneOf(req, req.query.get('type'), ['all', 'public', 'private', 'forks', 'sources', 'member'] as const, 'type', 'all');
        let repos = st.reposOf(org.login).filter((r) => permissionsFor(req, r).pull);
        if (type === 'public') repos = repos.filter((r) => !r.private);
        if (type === 'private') repos = repos.filter((r) => r.private);
        if (type === 'forks') repos = [];
        return listResponse(req, sortRepos(req, repos, 'created'), (r) => R.minimalRepository(req.ctx, r, permissionsFor(req, r)));
      },
    },
    {
      method: 'POST', path: '/orgs/{org}/repos', docs: D.createOrgRepo, creates: true,
      handler: async (req) => {
        const st = req.ctx.state;
        const org = st.org(req.params.org ?? '');
        if (!org) throw notFound(req.docs);
        const id = req.identity;
        if (id.kind === 'anonymous') throw new ApiError(401, 'Requires authentication', req.docs);
        if (id.kind === 'installation') {
          const inst = [...st.apps.values()].flatMap((a) => [...a.installations.values()]).find((i) => i.id === id.installationId);
          if (!inst || inst.account.toLowerCase() !== org.login.toLowerCase() || id.permissions.administration !== 'write') {
            throw new ApiError(403, 'Resource not accessible by integration', req.docs);
          }
        } else if (id.kind === 'user') {
          if (!org.members.has(id.user.login.toLowerCase())) throw notFound(req.docs);
        } else {
          throw new ApiError(403, 'Resource not accessible by integration', req.docs);
        }
        const repo = await createRepoFromBody(req, org.login);
        return created(R.fullRepository(req.ctx, repo, permissionsFor(req, repo)), { location: `${req.ctx.api}/repos/${repo.owner}/${repo.name}` });
      },
    },
    {
      method: 'GET', path: '/user/repos', docs: D.userRepos,
      handler: (req) => {
        const id = req.identity;
        if (id.kind !== 'user') throw new ApiError(id.kind === 'anonymous' ? 401 : 403, id.kind === 'anonymous' ? 'Requires authentication' : 'Resource not accessible by integration', req.docs);
        const st = req.ctx.state;
        const visibility = oneOf(req, req.query.get('visibility'), ['all', 'public', 'private'] as const, 'visibility', 'all');
        let repos = [...st.repos.values()].filter((r) => permissionsFor(req, r).push);
        if (visibility !== 'all') repos = repos.filter((r) => (visibility === 'private') === r.private);
        return listResponse(req, sortRepos(req, repos, 'full_name'), (r) => R.repository(req.ctx, r, permissionsFor(req, r)));
      },
    },
    {
      method: 'POST', path: '/user/repos', docs: D.createUserRepo, creates: true,
      handler: async (req) => {
        const id = req.identity;
        if (id.kind !== 'user') throw new ApiError(id.kind === 'anonymous' ? 401 : 403, id.kind === 'anonymous' ? 'Requires authentication' : 'Resource not accessible by integration', req.docs);
        const repo = await createRepoFromBody(req, id.user.login);
        return created(R.fullRepository(req.ctx, repo, permissionsFor(req, repo)));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}', docs: D.getRepo,
      handler: (req) => {
        const repo = repoFor(req, 'metadata', false);
        return ok(R.fullRepository(req.ctx, repo, permissionsFor(req, repo)));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}', docs: D.updateRepo,
      handler: async (req) => {
        const repo = repoFor(req, 'administration', true);
        if (!permissionsFor(req, repo).admin) throw new ApiError(403, 'Must have admin rights to Repository.', req.docs);
        const b = bodyObject(req);
        const st = req.ctx.state;
        const name = field<string>(req, b, 'name', ['string']);
        if (name !== undefined && name !== repo.name) {
          if (!REPO_NAME.test(name)) throw validationFailed(req.docs, [{ resource: 'Repository', code: 'invalid', field: 'name', value: name }]);
          if (st.repo(repo.owner, name)) {
            throw validationFailed(req.docs, [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name already exists on this account' }]);
          }
          st.renameRepo(repo, name);
        }
        const description = field<string | null>(req, b, 'description', ['string'], true);
        if (description !== undefined) repo.description = description;
        const homepage = field<string | null>(req, b, 'homepage', ['string'], true);
        if (homepage !== undefined) repo.homepage = homepage;
        const priv = field<boolean>(req, b, 'private', ['boolean']);
        if (priv !== undefined) {
          repo.private = priv;
          repo.visibility = priv ? 'private' : 'public';
        }
        const visibility = field<string>(req, b, 'visibility', ['string']);
        if (visibility !== undefined) {
          if (!['public', 'private', 'internal'].includes(visibility)) throw validationFailed(req.docs, [{ resource: 'Repository', code: 'invalid', field: 'visibility', value: visibility }]);
          repo.visibility = visibility as Repo['visibility'];
          repo.private = visibility !== 'public';
        }
        const flags: [string, 'hasIssues' | 'hasWiki' | 'hasProjects' | 'hasDiscussions' | 'isTemplate' | 'archived'][] = [
          ['has_issues', 'hasIssues'], ['has_wiki', 'hasWiki'], ['has_projects', 'hasProjects'], ['has_discussions', 'hasDiscussions'], ['is_template', 'isTemplate'], ['archived', 'archived'],
        ];
        for (const [k, prop] of flags) {
          const v = field<boolean>(req, b, k, ['boolean']);
          if (v !== undefined) repo[prop] = v;
        }
        if (repo.hasWiki && !repo.wikiExists) {
          await req.svc.ops.git.initBare(req.svc.ops.dir(repo, true), 'master');
          repo.wikiExists = true;
        }
        const defaultBranch = field<string>(req, b, 'default_branch', ['string']);
        if (defaultBranch !== undefined && defaultBranch !== repo.git.head) {
          if (!repo.git.branches.has(defaultBranch)) {
            throw validationFailed(req.docs, [{ resource: 'Repository', code: 'invalid', field: 'default_branch', value: defaultBranch }]);
          }
          await req.svc.ops.git.setHead(req.svc.ops.dir(repo), defaultBranch);
          repo.git.head = defaultBranch;
        }
        repo.updatedAt = st.now();
        return ok(R.fullRepository(req.ctx, repo, permissionsFor(req, repo)));
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}', docs: D.deleteRepo,
      handler: async (req) => {
        const repo = repoFor(req, 'administration', true);
        if (!permissionsFor(req, repo).admin) throw new ApiError(403, 'Must have admin rights to Repository.', req.docs);
        await req.svc.ops.deleteRepo(repo);
        return noContent();
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/branches', docs: D.branches,
      handler: (req) => {
        const repo = repoFor(req, 'contents', false);
        const prot = req.query.get('protected');
        const items = [...repo.git.branches.entries()].filter(() => prot !== 'true').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        return listResponse(req, items, ([n, sha]) => R.shortBranch(req.ctx, repo, n, sha));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/tags', docs: D.tags,
      handler: (req) => {
        const repo = repoFor(req, 'contents', false);
        const api = `${req.ctx.api}/repos/${repo.owner}/${repo.name}`;
        const items = [...repo.git.tagCommits.entries()].sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
        return listResponse(req, items, ([name, sha]) => ({
          name,
          commit: { sha, url: `${api}/commits/${sha}` },
          zipball_url: `${api}/zipball/refs/tags/${encodeURIComponent(name)}`,
          tarball_url: `${api}/tarball/refs/tags/${encodeURIComponent(name)}`,
          node_id: `REF_kwDO${Buffer.from(`${repo.id}:refs/tags/${name}`).toString('base64url')}`,
        }));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/git/refs', docs: D.createRef,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const b = bodyObject(req);
        const ref = required<string>(req, b, 'ref', ['string']);
        const sha = required<string>(req, b, 'sha', ['string']);
        const ops = req.svc.ops;
        if (repo.git.branches.size === 0) throw new ApiError(409, 'Git Repository is empty.', req.docs);
        if (!/^refs\/[^/]+\/.+/.test(ref) || ref.includes('..') || /[\s~^:?*[\\]/.test(ref)) throw new ApiError(422, 'Reference name is invalid', req.docs);
        if (ref.startsWith('refs/pull/')) throw new ApiError(422, 'Reference name is invalid', req.docs);
        const type = await ops.git.objectType(ops.dir(repo), sha);
        if (!type || !/^[0-9a-f]{40}$/.test(sha)) throw new ApiError(422, 'Object does not exist', req.docs);
        const existing = await ops.git.resolve(ops.dir(repo), ref).catch(() => null);
        if (existing) throw new ApiError(422, 'Reference already exists', req.docs);
        await ops.git.updateRef(ops.dir(repo), ref, sha);
        await ops.refresh(repo, { pushed: true });
        return created(R.gitRef(req.ctx, repo, ref, sha, type === 'tag' ? 'tag' : 'commit'));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/git/ref/{ref+}', docs: D.getRef,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', false);
        const ref = `refs/${req.params.ref ?? ''}`;
        if (ref.startsWith('refs/heads/')) {
          const sha = repo.git.branches.get(ref.slice(11));
          if (!sha) throw notFound(req.docs);
          return ok(R.gitRef(req.ctx, repo, ref, sha));
        }
        if (ref.startsWith('refs/tags/')) {
          const name = ref.slice(10);
          const sha = repo.git.tags.get(name);
          if (!sha) throw notFound(req.docs);
          return ok(R.gitRef(req.ctx, repo, ref, sha, sha !== repo.git.tagCommits.get(name) ? 'tag' : 'commit'));
        }
        const pulls = await req.svc.ops.git.pullRefs(req.svc.ops.dir(repo));
        const sha = pulls.get(ref);
        if (!sha) throw notFound(req.docs);
        return ok(R.gitRef(req.ctx, repo, ref, sha));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/git/refs/{ref+}', docs: D.updateRef,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const ref = `refs/${req.params.ref ?? ''}`;
        const b = bodyObject(req);
        const sha = required<string>(req, b, 'sha', ['string']);
        const force = field<boolean>(req, b, 'force', ['boolean']) ?? false;
        const ops = req.svc.ops;
        const dir = ops.dir(repo);
        const current = await ops.git.resolve(dir, ref);
        if (!current || ref.startsWith('refs/pull/')) throw new ApiError(422, 'Reference does not exist', req.docs);
        if ((await ops.git.objectType(dir, sha)) === null) throw new ApiError(422, 'Object does not exist', req.docs);
        if (!force) {
          const isAncestor = await ops.git.run(dir, ['merge-base', '--is-ancestor', current, sha]).then(() => true, () => false);
          if (!isAncestor) throw new ApiError(422, 'Update is not a fast forward', req.docs);
        }
        await ops.git.updateRef(dir, ref, sha);
        await ops.refresh(repo, { pushed: true });
        return ok(R.gitRef(req.ctx, repo, ref, sha));
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/git/refs/{ref+}', docs: D.deleteRef,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const ref = `refs/${req.params.ref ?? ''}`;
        const ops = req.svc.ops;
        const dir = ops.dir(repo);
        if (ref.startsWith('refs/pull/') || !(await ops.git.resolve(dir, ref).catch(() => null))) {
          throw new ApiError(422, 'Reference does not exist', req.docs);
        }
        if (ref === `refs/heads/${repo.git.head}`) throw new ApiError(422, 'Cannot delete the default branch', req.docs);
        await ops.git.deleteRef(dir, ref);
        await ops.refresh(repo, { pushed: true });
        return noContent();
      },
    },
    // ---------------- GitHub Apps ----------------
    {
      method: 'GET', path: '/app', docs: D.app, auth: 'jwt',
      handler: (req) => {
        const id = req.identity;
        if (id.kind !== 'app') throw new ApiError(401, 'A JSON web token could not be decoded', req.docs);
        const app = req.ctx.state.apps.get(id.appId);
        if (!app) throw notFound(req.docs);
        const org = req.ctx.state.org(app.owner);
        return ok({
          id: app.id, slug: app.slug, node_id: `A_kwDO${Buffer.from(String(app.id)).toString('base64url')}`, client_id: `Iv1.${app.id.toString(16).padStart(16, '0')}`,
          owner: org ? R.orgAsUser(req.ctx, org) : null, name: app.name, description: null, external_url: req.ctx.web, html_url: `${req.ctx.web}/apps/${app.slug}`,
          created_at: R.iso(0), updated_at: R.iso(0), permissions: {}, events: [], installations_count: app.installations.size,
        });
      },
    },
    {
      method: 'GET', path: '/app/installations', docs: D.installations, auth: 'jwt',
      handler: (req) => {
        const id = req.identity;
        if (id.kind !== 'app') throw new ApiError(401, 'A JSON web token could not be decoded', req.docs);
        const app = req.ctx.state.apps.get(id.appId);
        const items = app ? [...app.installations.values()] : [];
        return listResponse(req, items, (i) => installation(req, id.appId, i.id));
      },
    },
    {
      method: 'GET', path: '/orgs/{org}/installation', docs: D.orgInstallation, auth: 'jwt',
      handler: (req) => {
        const id = req.identity;
        if (id.kind !== 'app') throw new ApiError(401, 'A JSON web token could not be decoded', req.docs);
        const inst = [...(req.ctx.state.apps.get(id.appId)?.installations.values() ?? [])].find((i) => i.account.toLowerCase() === (req.params.org ?? '').toLowerCase());
        if (!inst) throw notFound(req.docs);
        return ok(installation(req, id.appId, inst.id));
      },
    },
    {
      method: 'POST', path: '/app/installations/{installation_id}/access_tokens', docs: D.installationToken, auth: 'jwt',
      handler: (req) => {
        const id = req.identity;
        if (id.kind !== 'app') throw new ApiError(401, 'A JSON web token could not be decoded', req.docs);
        const app = req.ctx.state.apps.get(id.appId);
        const instId = Number(req.params.installation_id);
        const inst = app?.installations.get(instId);
        if (!app || !inst) throw notFound(req.docs);
        const b = bodyObject(req);
        const st = req.ctx.state;
        let repositoryIds: number[] | null = null;
        const names = field<string[]>(req, b, 'repositories', ['array']);
        const ids = field<number[]>(req, b, 'repository_ids', ['array']);
        if (names || ids) {
          repositoryIds = [];
          for (const n of names ?? []) {
            const r = st.repo(inst.account, String(n));
            if (!r) throw validationFailed(req.docs, [{ resource: 'Installation', code: 'invalid', field: 'repositories', value: String(n) }], 'There is at least one repository that does not exist or is not accessible to the parent installation.');
            repositoryIds.push(r.id);
          }
          for (const i of ids ?? []) {
            const r = st.reposById.get(Number(i));
            if (!r || r.owner.toLowerCase() !== inst.account.toLowerCase()) {
              throw validationFailed(req.docs, [{ resource: 'Installation', code: 'invalid', field: 'repository_ids', value: Number(i) }], 'There is at least one repository that does not exist or is not accessible to the parent installation.');
            }
            repositoryIds.push(r.id);
          }
        }
        const perms = field<Record<string, string>>(req, b, 'permissions', ['object']) ?? null;
        if (perms) {
          for (const [k, v] of Object.entries(perms)) {
            const granted = inst.permissions[k];
            if (!granted || (granted === 'read' && v === 'write')) {
              throw validationFailed(req.docs, [{ resource: 'Installation', code: 'invalid', field: 'permissions', value: `${k}:${v}` }], 'The permissions requested are not granted to this installation.');
            }
          }
        }
        const t = req.svc.mintInstallationToken(instId, { repositoryIds, permissions: perms });
        const body: Record<string, unknown> = {
          token: t.token,
          expires_at: R.iso(t.expiresAt),
          permissions: t.permissions,
          repository_selection: repositoryIds ? 'selected' : 'all',
        };
        if (repositoryIds) body.repositories = repositoryIds.map((rid) => st.reposById.get(rid)).filter((r) => r !== undefined).map((r) => R.repository(req.ctx, r));
        return created(body);
      },
    },
  ];
}
