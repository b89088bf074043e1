import { z } from 'zod';

export const Service = z.enum(['github', 'google', 'microsoft']);
export type Service = z.infer<typeof Service>;

/**
 * What a kind declares about itself. The gap report is generated from these declarations plus
 * what verification observed, never from hand-written prose.
 */
export const KindSpec = z.object({
  kind: z.string(), // e.g. github.issue
  service: Service,
  title: z.string(),
  /** Kinds whose items must be imported first (labels before issues). */
  dependsOn: z.array(z.string()),
  possession: z.enum(['restorable', 'possessed-not-restorable']),
  /** How it is exported and imported, in a line each (for the report). */
  exportVia: z.string(),
  importVia: z.string().optional(),
  fidelity: z.object({
    /** Normalized fields that must be equal on the standby; verification compares exactly these. */
    preserved: z.array(z.string()),
    lost: z.array(z.object({ field: z.string(), why: z.string() })),
  }),
});
export type KindSpec = z.infer<typeof KindSpec>;

/** A data kind of the service that norestore does not possess, and why (for coverage). */
export const UncoveredKind = z.object({
  kind: z.string(),
  service: Service,
  title: z.string(),
  reason: z.string(),
});
export type UncoveredKind = z.infer<typeof UncoveredKind>;
