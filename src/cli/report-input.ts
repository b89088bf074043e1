import { objectivesFor, type Config } from '../config/schema.js';
import { connectorForSource } from '../engine/connectors.js';
import { directionOf, storageSourceKey } from '../engine/direction.js';
import { silentLogger } from '../engine/log.js';
import type { ReportSource } from '../report/data.js';
import type { Repository } from '../store/types.js';
import { selectSources } from './cycle.js';

/**
 * The sources as the metrics and the report need them: the kinds each connector declares, the
 * objectives from the config, the storage key of the current direction. No network calls.
 */
export async function reportSources(config: Config, repo: Repository, names?: string[]): Promise<ReportSource[]> {
  const out: ReportSource[] = [];
  // Unknown names are bad input (exit 2), not an empty report that says everything is fine.
  for (const src of selectSources(config, names)) {
    const connector = await connectorForSource(src, silentLogger);
    try {
      out.push({
        name: src.name,
        key: storageSourceKey(src.name, await directionOf(repo, src.name)),
        service: src.service,
        kinds: connector.kinds,
        uncovered: connector.uncovered,
        objectives: (kind?: string) => objectivesFor(config, src.name, kind),
        concurrency: src.concurrency,
      });
    } finally {
      await connector.close();
    }
  }
  return out;
}
