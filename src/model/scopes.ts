/**
 * Scope ids starting with '_' are not data scopes: they hold source-level runs. Drills (no-restore
 * and fresh) are committed under SOURCE_SCOPE of their source.
 */
export const SOURCE_SCOPE = '_source';

export function isDataScope(scope: string): boolean {
  return !scope.startsWith('_');
}
