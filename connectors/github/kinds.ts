/**
 * What the GitHub connector possesses, how, and how faithfully it restores it. The gap report is
 * generated from these declarations; `preserved` lists exactly the normalized fields (normalize.ts)
 * that verification compares between the owned storage and the standby.
 */
import { KindSpec, UncoveredKind } from '../../src/model/kinds.js';
import { K } from './types.js';

const AUTHOR = { field: 'author', why: 'items are created by the importing identity; the original login and time are kept in an attribution line' };
const NODE_IDS = { field: 'id, node_id, url', why: 'assigned by the standby; mapped through the id map and a hidden source-id marker' };
const REACTIONS = { field: 'reactions', why: 'reactions cannot be created on behalf of their users' };

/** Deletion detection, shared by the issue and comment kinds (see export.ts). */
const RECONCILE =
  'deletions: a probe page (per_page=1&page=<count possessed>, conditional) shows when the source holds fewer items; that, an expired cursor, or 24 h since the last one triggers a full listing compared with what is possessed';

export function githubKinds(opts: { importEndpoint: boolean }): KindSpec[] {
  const createdAt = opts.importEndpoint
    ? { preserved: ['created_at'], lost: [] as Array<{ field: string; why: string }> }
    : { preserved: [] as string[], lost: [{ field: 'created_at', why: 'the plain API sets the time of import (useImportEndpoint is off); the original is in the attribution line' }] };
  const specs: KindSpec[] = [
    {
      kind: K.repo,
      service: 'github',
      title: 'Repository settings',
      dependsOn: [],
      possession: 'restorable',
      exportVia: 'GET /repos/{owner}/{repo} (conditional, ETag)',
      importVia: 'POST /orgs/{org}/repos when missing (GitHub default labels removed), then PATCH; default branch set after the git push',
      fidelity: {
        preserved: ['name', 'description', 'homepage', 'private', 'has_issues', 'has_wiki', 'default_branch'],
        lost: [
          { field: 'archived', why: 'an archived standby refuses every further import; archive it at failover' },
          { field: 'topics, custom properties, security settings', why: 'not replayed by this version' },
          { field: 'created_at, pushed_at, stars, forks, watchers', why: 'owned by GitHub; cannot be set' },
        ],
      },
    },
    {
      kind: K.git,
      service: 'github',
      title: 'Git repository (branches, tags, pull request heads)',
      dependsOn: [K.repo],
      possession: 'restorable',
      exportVia: 'git fetch of every ref (refs/pull/* included) into a local mirror; each change stored as an incremental git bundle of only the new objects, rebuildable from the stored chain',
      importVia: 'git push --prune of every ref except refs/pull/*; pull request heads pushed as refs/norestore/pull/<n>/head (GitHub refuses refs/pull/*)',
      fidelity: {
        preserved: ['refs', 'pulls'],
        lost: [
          { field: 'refs/pull/<n>/merge', why: 'test-merge refs are computed by GitHub; the standby computes its own for re-created pull requests' },
          { field: 'git LFS objects', why: 'LFS content needs its own fetch/push; only pointer files are possessed' },
          { field: 'push times, reflogs', why: 'not part of git objects' },
        ],
      },
    },
    {
      kind: K.wiki,
      service: 'github',
      title: 'Wiki (git)',
      dependsOn: [K.repo],
      possession: 'restorable',
      exportVia: 'git fetch of {repo}.wiki.git, incremental bundles as for the repository (an absent wiki is not an error)',
      importVia: 'git push of the wiki refs; on github.com the standby wiki must have been initialised once in the web UI',
      fidelity: { preserved: ['refs'], lost: [] },
    },
    {
      kind: K.label,
      service: 'github',
      title: 'Labels',
      dependsOn: [K.repo],
      possession: 'restorable',
      exportVia: 'GET /labels, full list (conditional); deletions by difference',
      importVia: 'by name: POST, PATCH (renames follow the source id), DELETE',
      fidelity: { preserved: ['name', 'color', 'description'], lost: [NODE_IDS, { field: 'default', why: 'set by GitHub' }] },
    },
    {
      kind: K.milestone,
      service: 'github',
      title: 'Milestones',
      dependsOn: [K.repo],
      possession: 'restorable',
      exportVia: 'GET /milestones?state=all, full list (conditional); deletions by difference',
      importVia: 'by title, created in number order (numbers match when the source has no gaps); PATCH, DELETE',
      fidelity: {
        preserved: ['title', 'description', 'state', 'due_on'],
        lost: [
          { field: 'number', why: 'kept only when the source numbers have no gaps; issues refer to milestones by title' },
          { field: 'created_at, updated_at, closed_at, creator', why: 'set by the standby' },
        ],
      },
    },
    {
      kind: K.issue,
      service: 'github',
      title: 'Issues',
      dependsOn: [K.label, K.milestone],
      possession: 'restorable',
      exportVia: `GET /issues?state=all&sort=updated&direction=asc&since= (conditional); ${RECONCILE}`,
      importVia:
        'in number order so numbers match in a fresh standby (gaps filled with closed placeholder issues); POST /import/issues (keeps created_at, closed_at at creation) or POST /issues with an attribution line; later edits by PATCH; deleted issues closed and marked (REST cannot delete issues)',
      fidelity: {
        preserved: ['number', 'title', 'body', 'state', 'labels', 'milestone', ...createdAt.preserved],
        lost: [
          AUTHOR,
          ...createdAt.lost,
          { field: 'closed_at, updated_at', why: 'closed_at is kept at creation through the import endpoint only; later closes and every update take the standby time' },
          { field: 'state_reason, locked', why: 'not replayed by this version' },
          { field: 'assignees', why: 'set only for users mapped in identity.users who can be assigned on the standby' },
          { field: 'timeline events (references, renames, label and assignment history)', why: 'events cannot be created through the API' },
          { field: 'issue types, sub-issues, pinned state', why: 'not replayed by this version' },
          REACTIONS,
          NODE_IDS,
        ],
      },
    },
    {
      kind: K.pull,
      service: 'github',
      title: 'Pull requests',
      dependsOn: [K.git, K.label, K.milestone],
      possession: 'restorable',
      exportVia: `issues list (pull_request key) + GET /pulls/{n} for head/base and merge state; ${RECONCILE}`,
      importVia:
        'in number order with issues: POST /pulls where head and base branches exist on the standby and differ, otherwise an issue that says it was a pull request (its commits are at refs/norestore/pull/<n>/head); closed by PATCH',
      fidelity: {
        preserved: ['number', 'title', 'body', 'state', 'labels', 'milestone'],
        lost: [
          AUTHOR,
          { field: 'merged, merged_at, merge_commit_sha', why: 'a merge cannot be replayed without changing the git history; merged pull requests become closed issues that name their head and base' },
          { field: 'head, base, draft', why: 'kept only when the pull request could be re-created (both branches exist on the standby and have commits between them)' },
          { field: 'created_at, closed_at, updated_at', why: 'POST /pulls takes no timestamps; the originals are in the attribution line' },
          { field: 'requested reviewers, assignees, auto-merge', why: 'not replayed by this version' },
          { field: 'timeline events, commit statuses and checks', why: 'cannot be created through the API' },
          REACTIONS,
          NODE_IDS,
        ],
      },
    },
    {
      kind: K.issueComment,
      service: 'github',
      title: 'Issue and pull request comments',
      dependsOn: [K.issue, K.pull],
      possession: 'restorable',
      exportVia: `GET /issues/comments?since=&sort=updated (repository-wide, conditional); ${RECONCILE}`,
      importVia: 'with the issue through the import endpoint when it is created, else POST /issues/{n}/comments; PATCH, DELETE; adopted by a hidden source-id marker',
      fidelity: {
        preserved: ['issue', 'body'],
        lost: [
          AUTHOR,
          { field: 'created_at, updated_at', why: 'kept only for comments imported together with their issue through the import endpoint; otherwise in the attribution line' },
          { field: 'minimized, pinned', why: 'not replayed by this version' },
          REACTIONS,
          NODE_IDS,
        ],
      },
    },
    {
      kind: K.review,
      service: 'github',
      title: 'Pull request reviews',
      dependsOn: [K.pull],
      possession: 'restorable',
      exportVia: 'GET /pulls/{n}/reviews for every pull request that changed (submitted reviews cannot be deleted on GitHub); the empty COMMENTED reviews GitHub wraps around single review comments are not items (their comments are exported as review comments)',
      importVia: 'POST /pulls/{n}/reviews with event COMMENT (or an issue comment when the pull request is an issue on the standby); body updates by PUT',
      fidelity: {
        preserved: ['pull', 'body'],
        lost: [
          { field: 'state', why: 'APPROVED / CHANGES_REQUESTED cannot be given by the importing identity on its own pull requests; the state is written in the attribution line' },
          AUTHOR,
          { field: 'submitted_at, commit_id', why: 'set by the standby at import' },
          NODE_IDS,
        ],
      },
    },
    {
      kind: K.reviewComment,
      service: 'github',
      title: 'Pull request review comments',
      dependsOn: [K.pull, K.review],
      possession: 'restorable',
      exportVia: `GET /pulls/comments?since=&sort=updated (repository-wide, conditional); ${RECONCILE}`,
      importVia: 'POST /pulls/{n}/comments on the original commit, path and line (replies in their thread); when the position no longer applies, or the pull request is an issue on the standby, an issue comment quoting path and diff hunk',
      fidelity: {
        preserved: ['pull', 'body'],
        lost: [
          { field: 'path, line, side, diff position', why: 'review positions on outdated diffs cannot be re-created; such comments become issue comments that quote path and hunk' },
          { field: 'review grouping (pull_request_review_id)', why: 'comments are created one by one, not as parts of their original review' },
          AUTHOR,
          { field: 'created_at, updated_at', why: 'set by the standby; the original is in the attribution line' },
          REACTIONS,
          NODE_IDS,
        ],
      },
    },
    {
      kind: K.release,
      service: 'github',
      title: 'Releases',
      dependsOn: [K.git],
      possession: 'restorable',
      exportVia: 'GET /releases, full list (conditional); deletions by difference',
      importVia: 'by tag: POST, PATCH, DELETE',
      fidelity: {
        preserved: ['tag_name', 'name', 'body', 'draft', 'prerelease'],
        lost: [
          AUTHOR,
          { field: 'created_at, published_at', why: 'set by the standby at creation' },
          { field: 'target_commitish', why: 'the existing tag decides the commit' },
          { field: 'immutable', why: 'not replayed by this version' },
          REACTIONS,
          NODE_IDS,
        ],
      },
    },
    {
      kind: K.asset,
      service: 'github',
      title: 'Release assets',
      dependsOn: [K.release],
      possession: 'restorable',
      exportVia: 'asset lists of the releases; content streamed with Accept: application/octet-stream into a blob; deletions by difference',
      importVia: 'uploaded (streamed from the owned storage) to the release upload URL; replaced when the content changes',
      fidelity: {
        preserved: ['release', 'name', 'label', 'content_type', 'size', 'sha256'],
        lost: [
          { field: 'download_count, uploader', why: 'owned by GitHub' },
          { field: 'created_at, updated_at', why: 'set at upload' },
          NODE_IDS,
        ],
      },
    },
  ];
  return specs.map((s) => KindSpec.parse(s));
}

const u = (kind: string, title: string, reason: string): UncoveredKind => UncoveredKind.parse({ kind, service: 'github', title, reason });

export const GITHUB_UNCOVERED: readonly UncoveredKind[] = [
  u('github.discussion', 'Discussions', 'only available through the GraphQL API; not exported by this version'),
  u('github.project', 'Projects (v2)', 'only available through the GraphQL API; not exported by this version'),
  u('github.actions_secret', 'Actions secrets', 'secret values cannot be read through any API, only their names'),
  u('github.actions_variable', 'Actions variables', 'not exported by this version'),
  u('github.actions_run', 'Actions workflow runs, logs and artifacts', 'runs cannot be re-created; artifacts expire; not exported'),
  u('github.package', 'Packages (container and package registries)', 'served by the package registries, not the REST repository API; not exported'),
  u('github.star_fork_watch', 'Stars, forks and watchers', 'belong to other users and cannot be created on their behalf'),
  u('github.webhook', 'Webhooks', 'hook secrets cannot be read back; not exported by this version'),
  u('github.branch_protection', 'Branch protection rules and rulesets', 'not exported by this version'),
  u('github.deploy_key', 'Deploy keys', 'private halves are never held by GitHub; not exported'),
  u('github.environment', 'Environments and their protection rules', 'not exported by this version'),
  u('github.collaborator', 'Collaborators, teams and permissions', 'identities differ between orgs; not exported by this version'),
  u('github.pages', 'Pages settings', 'not exported by this version (the Pages branch is possessed as git)'),
  u('github.security_alert', 'Code scanning, secret scanning and Dependabot alerts', 'generated by GitHub; cannot be re-created'),
  u('github.reaction', 'Reactions', 'counted in the stored raw items; cannot be re-created on behalf of their users'),
  u('github.timeline', 'Issue and pull request timeline events', 'events cannot be created through the API'),
  u('github.lfs', 'Git LFS objects', 'need their own fetch and push; only the pointer files are possessed'),
];
