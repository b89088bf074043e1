/**
 * Options of the GitHub connector and the wire types of the GitHub REST API it uses.
 * Wire types come from @octokit/openapi-types (GitHub's own OpenAPI description); the zod schemas in
 * schema.ts validate the parts of them that norestore stores and relies on.
 */
import type { components } from '@octokit/openapi-types';
import type { Logger } from '../../src/model/connector.js';

/** GitHub App installation credentials (the private key is a PEM string; never logged). */
export interface GithubAppAuth {
  type: 'app';
  appId: number | string;
  /** Default: the app's installation on the tenant's org (GET /orgs/{org}/installation). */
  installationId?: number | string;
  privateKey: string;
}

/** A personal access token or fine-grained token (never logged). */
export interface GithubTokenAuth {
  type: 'token';
  token: string;
}

/** One GitHub organisation on one GitHub host: the source or the standby. */
export interface GithubTenant {
  /** REST base URL: https://api.github.com, or https://ghe.example.com/api/v3 for GitHub Enterprise Server. */
  baseUrl: string;
  org: string;
  /**
   * Base URL of git smart HTTP. Default: https://api.github.com -> https://github.com; any other
   * baseUrl -> the origin of baseUrl (GHES serves git at the origin, the API under /api/v3).
   */
  gitBaseUrl?: string;
  auth: GithubTokenAuth | GithubAppAuth;
}

export interface GithubConnectorOptions {
  source: GithubTenant;
  standby: GithubTenant;
  /** Repository name globs (`*`, `?`) matched against `name` and `org/name`; default all. */
  include?: string[];
  exclude?: string[];
  /** Source login -> standby login, for assignees. Attribution lines always name the source login. */
  identity?: { users?: Record<string, string> };
  /**
   * Create issues through the issue import endpoint (keeps created_at). Default true; when the standby
   * answers 404 or 415 on it, the plain API is used instead (timestamps only in the attribution line).
   */
  useImportEndpoint?: boolean;
  /** Content-creating requests (POST/PATCH/PUT/DELETE) per minute on the standby; default 80. */
  contentCreationPerMinute?: number;
  /** Content-creating requests per hour on the standby; default 500. */
  contentCreationPerHour?: number;
  /**
   * Divides the pacer's minute and hour windows (default 1). Only for services whose clock runs
   * faster, such as an emulator started with a time scale: 60 makes the minute window one second.
   */
  limitWindowScale?: number;
  /** Base of the quadratic back-off of retried requests (5xx, dropped connections), ms; default 1000. */
  retryBaseMs?: number;
  /** Full reconciliation of issues and comments (deletions by difference) at least this often; default 24 h. */
  reconcileEveryMs?: number;
  log: Logger;
}

type S = components['schemas'];
export type WireRepo = S['full-repository'];
export type WireMinimalRepo = S['minimal-repository'];
export type WireIssue = S['issue'];
export type WirePull = S['pull-request'];
export type WireIssueComment = S['issue-comment'];
export type WireReview = S['pull-request-review'];
export type WireReviewComment = S['pull-request-review-comment'];
export type WireLabel = S['label'];
export type WireMilestone = S['milestone'];
export type WireRelease = S['release'];
export type WireAsset = S['release-asset'];

/** Kinds of this connector. */
export const K = {
  repo: 'github.repo',
  git: 'github.git',
  wiki: 'github.wiki',
  label: 'github.label',
  milestone: 'github.milestone',
  issue: 'github.issue',
  pull: 'github.pull',
  issueComment: 'github.issue_comment',
  review: 'github.review',
  reviewComment: 'github.review_comment',
  release: 'github.release',
  asset: 'github.release_asset',
} as const;
export type GithubKind = (typeof K)[keyof typeof K];

/** Fixed item ids of the singleton kinds of a repository scope. */
export const SINGLETON_ID = { repo: 'repo', git: 'git', wiki: 'wiki' } as const;

/** Request accounting per tenant (for status and benchmarks). */
export interface ClientStats {
  /** Every HTTP request sent, including retries. */
  requests: number;
  /** Answers 304 Not Modified (free against the primary limit). */
  notModified: number;
  /** POST/PATCH/PUT/DELETE requests sent (content creation budget). */
  writes: number;
  /** Times a request met a rate limit (403/429) and waited. */
  throttled: number;
  /** Milliseconds spent waiting in the pacers. */
  pacedMs: number;
}
