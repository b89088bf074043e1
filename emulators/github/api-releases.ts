/**
 * Releases and release assets: upload on the uploads host, download with
 * `Accept: application/octet-stream` as a 302 to a signed URL (as GitHub redirects to its object
 * storage), reactions on releases.
 */
import { reactionRoutes } from './api-issues.js';
import {
  ApiError, actor, bodyObject, created, field, intParam, listResponse, noContent, notFound, ok, permissionsFor, repoFor, required, validationFailed,
  type ApiRequest, type RouteDef,
} from './http.js';
import { sanitizeAssetName } from './ops.js';
import * as R from './render.js';
import type { Release, Repo } from './state.js';

const D = {
  list: 'https://docs.github.com/rest/releases/releases#list-releases',
  create: 'https://docs.github.com/rest/releases/releases#create-a-release',
  get: 'https://docs.github.com/rest/releases/releases#get-a-release',
  latest: 'https://docs.github.com/rest/releases/releases#get-the-latest-release',
  byTag: 'https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name',
  update: 'https://docs.github.com/rest/releases/releases#update-a-release',
  remove: 'https://docs.github.com/rest/releases/releases#delete-a-release',
  listAssets: 'https://docs.github.com/rest/releases/assets#list-release-assets',
  upload: 'https://docs.github.com/rest/releases/assets#upload-a-release-asset',
  getAsset: 'https://docs.github.com/rest/releases/assets#get-a-release-asset',
  updateAsset: 'https://docs.github.com/rest/releases/assets#update-a-release-asset',
  deleteAsset: 'https://docs.github.com/rest/releases/assets#delete-a-release-asset',
  reactions: 'https://docs.github.com/rest/reactions/reactions#list-reactions-for-a-release',
  createReaction: 'https://docs.github.com/rest/reactions/reactions#create-reaction-for-a-release',
  deleteReaction: 'https://docs.github.com/rest/reactions/reactions#delete-a-release-reaction',
};

/** Draft releases are visible only to users with push access, as on GitHub. */
function visibleReleases(req: ApiRequest, repo: Repo): Release[] {
  const id = req.identity;
  const canPush = id.kind === 'installation' ? id.permissions.contents === 'write' && permissionsFor(req, repo).pull : permissionsFor(req, repo).push;
  return [...repo.releases.values()].filter((r) => !r.draft || canPush);
}

function releaseFor(req: ApiRequest, repo: Repo): Release {
  const id = intParam(req, 'release_id');
  const rel = repo.releases.get(id);
  if (!rel || !visibleReleases(req, repo).includes(rel)) throw notFound(req.docs);
  return rel;
}

const readBody = (req: ApiRequest): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.raw.on('data', (c: Buffer) => chunks.push(c));
    req.raw.on('end', () => resolve(Buffer.concat(chunks)));
    req.raw.on('error', reject);
  });

export function releaseRoutes(): RouteDef[] {
  const routes: RouteDef[] = [
    {
      method: 'GET', path: '/repos/{owner}/{repo}/releases', docs: D.list,
      handler: (req) => {
        const repo = repoFor(req, 'contents', false);
        const items = visibleReleases(req, repo).sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
        return listResponse(req, items, (r) => R.release(req.ctx, repo, r));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/releases', docs: D.create, creates: true,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const b = bodyObject(req);
        const tagName = required<string>(req, b, 'tag_name', ['string']);
        const target = field<string>(req, b, 'target_commitish', ['string']);
        const name = field<string | null>(req, b, 'name', ['string'], true) ?? null;
        const body = field<string | null>(req, b, 'body', ['string'], true) ?? null;
        const draft = field<boolean>(req, b, 'draft', ['boolean']) ?? false;
        const prerelease = field<boolean>(req, b, 'prerelease', ['boolean']) ?? false;
        field<string>(req, b, 'make_latest', ['string']);
        field<boolean>(req, b, 'generate_release_notes', ['boolean']);
        if (!/^[^\s~^:?*[\\]+$/.test(tagName) || tagName.includes('..')) {
          throw validationFailed(req.docs, [{ resource: 'Release', code: 'invalid', field: 'tag_name' }]);
        }
        if (req.ctx.state.releaseByTag(repo, tagName)) {
          throw validationFailed(req.docs, [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]);
        }
        if (repo.git.branches.size === 0) throw validationFailed(req.docs, [{ resource: 'Release', code: 'custom', field: 'target_commitish', message: 'Repository is empty.' }]);
        if (!draft && !repo.git.tags.has(tagName)) {
          const t = target ?? repo.git.head;
          const sha = repo.git.branches.get(t) ?? (await req.svc.ops.git.resolve(req.svc.ops.dir(repo), t));
          if (!sha) throw validationFailed(req.docs, [{ resource: 'Release', code: 'invalid', field: 'target_commitish' }]);
        }
        const rel = await req.svc.ops.createRelease(repo, { tagName, targetCommitish: target, name, body, draft, prerelease, author: actor(req) });
        return created(R.release(req.ctx, repo, rel), { location: `${req.ctx.api}/repos/${repo.owner}/${repo.name}/releases/${rel.id}` });
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/releases/latest', docs: D.latest,
      handler: (req) => {
        const repo = repoFor(req, 'contents', false);
        const latest = [...repo.releases.values()]
          .filter((r) => !r.draft && !r.prerelease)
          .sort((a, b) => (b.publishedAt ?? 0) - (a.publishedAt ?? 0) || b.id - a.id)[0];
        if (!latest) throw notFound(req.docs);
        return ok(R.release(req.ctx, repo, latest));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/releases/tags/{tag}', docs: D.byTag,
      handler: (req) => {
        const repo = repoFor(req, 'contents', false);
        const rel = [...repo.releases.values()].find((r) => !r.draft && r.tagName === req.params.tag);
        if (!rel) throw notFound(req.docs);
        return ok(R.release(req.ctx, repo, rel));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/releases/{release_id}', docs: D.get,
      handler: (req) => {
        const repo = repoFor(req, 'contents', false);
        return ok(R.release(req.ctx, repo, releaseFor(req, repo)));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/releases/{release_id}', docs: D.update,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const rel = releaseFor(req, repo);
        const b = bodyObject(req);
        const st = req.ctx.state;
        const tag = field<string>(req, b, 'tag_name', ['string']);
        if (tag !== undefined && tag !== rel.tagName) {
          const other = st.releaseByTag(repo, tag);
          if (other && other.id !== rel.id) throw validationFailed(req.docs, [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]);
          rel.tagName = tag;
        }
        const target = field<string>(req, b, 'target_commitish', ['string']);
        if (target !== undefined) rel.targetCommitish = target;
        const name = field<string | null>(req, b, 'name', ['string'], true);
        if (name !== undefined) rel.name = name;
        const body = field<string | null>(req, b, 'body', ['string'], true);
        if (body !== undefined) rel.body = body;
        const prerelease = field<boolean>(req, b, 'prerelease', ['boolean']);
        if (prerelease !== undefined) rel.prerelease = prerelease;
        const draft = field<boolean>(req, b, 'draft', ['boolean']);
        const at = st.now();
        if (draft === false && rel.draft) {
          if (!repo.git.tags.has(rel.tagName)) {
            const sha = repo.git.branches.get(rel.targetCommitish) ?? (await req.svc.ops.git.resolve(req.svc.ops.dir(repo), rel.targetCommitish));
            if (!sha) throw validationFailed(req.docs, [{ resource: 'Release', code: 'invalid', field: 'target_commitish' }]);
            await req.svc.ops.createTag(repo, rel.tagName, sha);
          }
          rel.draft = false;
          rel.publishedAt = at;
        } else if (draft === true) {
          rel.draft = true;
        }
        rel.updatedAt = at;
        return ok(R.release(req.ctx, repo, rel));
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/releases/{release_id}', docs: D.remove,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const rel = releaseFor(req, repo);
        await req.svc.ops.deleteRelease(repo, rel);
        return noContent();
      },
    },
    // ---------------- assets ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/releases/{release_id}/assets', docs: D.listAssets,
      handler: (req) => {
        const repo = repoFor(req, 'contents', false);
        const rel = releaseFor(req, repo);
        const items = rel.assets.map((id) => repo.assets.get(id)).filter((a) => a !== undefined);
        return listResponse(req, items, (a) => R.releaseAsset(req.ctx, repo, rel, a));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/releases/{release_id}/assets', docs: D.upload, creates: true, rawBody: true, uploads: true,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const rel = releaseFor(req, repo);
        const rawName = req.query.get('name');
        if (!rawName) {
          req.raw.resume();
          throw validationFailed(req.docs, [{ resource: 'ReleaseAsset', code: 'missing_field', field: 'name' }]);
        }
        const name = sanitizeAssetName(rawName);
        if (rel.assets.some((id) => repo.assets.get(id)?.name === name)) {
          req.raw.resume();
          throw validationFailed(req.docs, [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }]);
        }
        const contentType = String(req.headers['content-type'] ?? '');
        if (!contentType) {
          req.raw.resume();
          throw new ApiError(400, 'Bad Content-Type header value', req.docs);
        }
        const data = await readBody(req);
        const asset = await req.svc.ops.storeAsset(repo, rel, { name, label: req.query.get('label'), contentType, data, uploader: actor(req) });
        return created(R.releaseAsset(req.ctx, repo, rel, asset));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/releases/assets/{asset_id}', docs: D.getAsset,
      handler: (req) => {
        const repo = repoFor(req, 'contents', false);
        const asset = repo.assets.get(intParam(req, 'asset_id'));
        if (!asset) throw notFound(req.docs);
        const rel = repo.releases.get(asset.releaseId);
        const accept = String(req.headers.accept ?? '');
        if (accept.includes('application/octet-stream')) {
          return { status: 302, headers: { location: req.svc.signedAssetUrl(asset.id) }, body: undefined };
        }
        return ok(R.releaseAsset(req.ctx, repo, rel, asset));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/releases/assets/{asset_id}', docs: D.updateAsset,
      handler: (req) => {
        const repo = repoFor(req, 'contents', true);
        const asset = repo.assets.get(intParam(req, 'asset_id'));
        if (!asset) throw notFound(req.docs);
        const b = bodyObject(req);
        const name = field<string>(req, b, 'name', ['string']);
        if (name !== undefined) asset.name = sanitizeAssetName(name);
        const label = field<string | null>(req, b, 'label', ['string'], true);
        if (label !== undefined) asset.label = label;
        asset.updatedAt = req.ctx.state.now();
        return ok(R.releaseAsset(req.ctx, repo, repo.releases.get(asset.releaseId), asset));
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/releases/assets/{asset_id}', docs: D.deleteAsset,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const asset = repo.assets.get(intParam(req, 'asset_id'));
        if (!asset) throw notFound(req.docs);
        await req.svc.ops.deleteAsset(repo, asset);
        return noContent();
      },
    },
  ];
  routes.push(
    ...reactionRoutes(
      '/repos/{owner}/{repo}/releases/{release_id}/reactions',
      { list: D.reactions, create: D.createReaction, remove: D.deleteReaction },
      (req, write) => {
        const repo = repoFor(req, 'contents', write);
        return { list: releaseFor(req, repo).reactions, area: 'contents' };
      },
      ['+1', 'laugh', 'heart', 'hooray', 'rocket', 'eyes'],
    ),
  );
  return routes;
}
