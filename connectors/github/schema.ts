/**
 * zod schemas for the parts of GitHub payloads norestore stores and relies on (validated when
 * received and again when a stored record is imported or normalized), and for the cursor.
 * Objects are loose: unknown fields are kept, so `raw` stays the API object as received.
 */
import { z } from 'zod';

const UserRef = z.looseObject({ login: z.string() }).nullable().optional();
const Timestamp = z.string();

export const LabelRef = z.union([z.string(), z.looseObject({ name: z.string().optional().nullable() })]);

export const Label = z.looseObject({
  id: z.number(),
  name: z.string(),
  color: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
});
export type Label = z.infer<typeof Label>;

export const Milestone = z.looseObject({
  number: z.number().int(),
  title: z.string(),
  description: z.string().nullable().optional(),
  state: z.enum(['open', 'closed']),
  due_on: z.string().nullable().optional(),
  created_at: Timestamp,
  updated_at: Timestamp,
  closed_at: z.string().nullable().optional(),
});
export type Milestone = z.infer<typeof Milestone>;

export const Issue = z.looseObject({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable().optional(),
  state: z.enum(['open', 'closed']),
  state_reason: z.string().nullable().optional(),
  labels: z.array(LabelRef).default([]),
  milestone: z.looseObject({ number: z.number().int(), title: z.string() }).nullable().optional(),
  assignees: z.array(z.looseObject({ login: z.string() })).nullable().optional(),
  user: UserRef,
  locked: z.boolean().optional(),
  created_at: Timestamp,
  updated_at: Timestamp,
  closed_at: z.string().nullable().optional(),
  pull_request: z.looseObject({ merged_at: z.string().nullable().optional() }).optional(),
});
export type Issue = z.infer<typeof Issue>;

const BranchRef = z.looseObject({
  ref: z.string(),
  sha: z.string(),
  repo: z.looseObject({ full_name: z.string() }).nullable().optional(),
});

export const Pull = z.looseObject({
  number: z.number().int().positive(),
  state: z.enum(['open', 'closed']),
  head: BranchRef,
  base: BranchRef,
  draft: z.boolean().optional(),
  merged: z.boolean().optional(),
  merged_at: z.string().nullable().optional(),
  merge_commit_sha: z.string().nullable().optional(),
});
export type Pull = z.infer<typeof Pull>;

/** raw of a github.pull record: the issues-API object and the pulls-API object. */
export const PullRecordRaw = z.object({ issue: Issue, pull: Pull });
export type PullRecordRaw = z.infer<typeof PullRecordRaw>;

export const IssueComment = z.looseObject({
  id: z.number(),
  body: z.string().nullable().optional(),
  user: UserRef,
  created_at: Timestamp,
  updated_at: Timestamp,
  issue_url: z.string(),
});
export type IssueComment = z.infer<typeof IssueComment>;

export const Review = z.looseObject({
  id: z.number(),
  body: z.string().nullable().optional(),
  state: z.string(),
  user: UserRef,
  submitted_at: z.string().nullable().optional(),
  commit_id: z.string().nullable().optional(),
});
export type Review = z.infer<typeof Review>;

export const ReviewComment = z.looseObject({
  id: z.number(),
  body: z.string(),
  path: z.string(),
  diff_hunk: z.string().optional(),
  commit_id: z.string().optional(),
  original_commit_id: z.string().optional(),
  line: z.number().nullable().optional(),
  original_line: z.number().nullable().optional(),
  side: z.enum(['LEFT', 'RIGHT']).nullable().optional(),
  start_line: z.number().nullable().optional(),
  original_start_line: z.number().nullable().optional(),
  start_side: z.enum(['LEFT', 'RIGHT']).nullable().optional(),
  subject_type: z.string().nullable().optional(),
  in_reply_to_id: z.number().nullable().optional(),
  pull_request_review_id: z.number().nullable().optional(),
  user: UserRef,
  created_at: Timestamp,
  updated_at: Timestamp,
  pull_request_url: z.string(),
});
export type ReviewComment = z.infer<typeof ReviewComment>;

export const Asset = z.looseObject({
  id: z.number(),
  name: z.string(),
  label: z.string().nullable().optional(),
  state: z.string().optional(),
  content_type: z.string(),
  size: z.number().int().nonnegative(),
  digest: z.string().nullable().optional(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Asset = z.infer<typeof Asset>;

export const Release = z.looseObject({
  id: z.number(),
  tag_name: z.string(),
  target_commitish: z.string().optional(),
  name: z.string().nullable().optional(),
  body: z.string().nullable().optional(),
  draft: z.boolean(),
  prerelease: z.boolean(),
  author: UserRef,
  created_at: Timestamp,
  published_at: z.string().nullable().optional(),
  updated_at: z.string().nullable().optional(),
  upload_url: z.string().optional(),
  assets: z.array(Asset).default([]),
});
export type Release = z.infer<typeof Release>;

export const Repo = z.looseObject({
  name: z.string(),
  full_name: z.string().optional(),
  description: z.string().nullable().optional(),
  homepage: z.string().nullable().optional(),
  private: z.boolean(),
  visibility: z.string().optional(),
  has_issues: z.boolean().optional(),
  has_wiki: z.boolean().optional(),
  has_projects: z.boolean().optional(),
  default_branch: z.string().optional(),
  archived: z.boolean().optional(),
  pushed_at: z.string().nullable().optional(),
  updated_at: z.string().nullable().optional(),
});
export type Repo = z.infer<typeof Repo>;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
export const GitRecordRaw = z.object({
  refs: z.record(z.string(), z.string()),
  chain: z.array(Sha256),
  bundle: Sha256.nullable(),
  prerequisites: z.array(z.string()),
});
export type GitRecordRaw = z.infer<typeof GitRecordRaw>;

/** A since-based list position: the `since` sent and the ETag of the answer to exactly that request. */
const SinceState = z.object({ since: z.string().nullable(), etag: z.string().optional() });
/** A full list fetched with an ETag (single page only). */
const ListState = z.object({ etag: z.string().optional() });
/** Deletion probe: per_page=1&page=k, where k is the number of items possessed. */
const ProbeState = z.object({ k: z.number().int(), etag: z.string().optional() });

export const CURSOR_VERSION = 1;
export const GithubCursor = z.object({
  v: z.literal(CURSOR_VERSION),
  repo: z.object({ etag: z.string().optional(), pushedAt: z.string().nullable().optional() }).default({}),
  labels: ListState.default({}),
  milestones: ListState.default({}),
  releases: ListState.default({}),
  issues: SinceState,
  issueComments: SinceState,
  reviewComments: SinceState,
  probes: z.record(z.string(), ProbeState).default({}),
  /** When the last full reconciliation (deletions by difference) ran (server time). */
  lastFullAt: z.string(),
  exportedAt: z.string(),
});
export type GithubCursor = z.infer<typeof GithubCursor>;
