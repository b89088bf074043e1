/**
 * Registry of connector factories by service id. Every folder of connectors/ is one service and
 * must be listed here (connectors/registry.test.ts checks that the two agree).
 */
import { createGithubConnector } from './github/index.js';
import { createGoogleConnector } from './google/index.js';
import { createMicrosoftConnector } from './microsoft/index.js';

export const connectorFactories = {
  github: createGithubConnector,
  google: createGoogleConnector,
  microsoft: createMicrosoftConnector,
} as const;

export type ConnectorService = keyof typeof connectorFactories;
