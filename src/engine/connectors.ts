import { readFileSync } from 'node:fs';
import type { GithubEndpoint, GoogleEndpoint, MicrosoftEndpoint, SourceConfig } from '../config/schema.js';
import type { Connector, Logger } from '../model/connector.js';
import type { GithubTenant } from '../../connectors/github/types.js';

/**
 * Builds the connector of a configured source. With `reversed` (after a failover) the standby is
 * read as the source and the old primary becomes the standby; identity maps are inverted.
 * Connectors are imported lazily so a command only loads the SDKs it uses.
 */
export async function connectorForSource(src: SourceConfig, log: Logger, opts: { reversed?: boolean; fresh?: boolean } = {}): Promise<Connector> {
  if (opts.fresh && !src.freshStandby) throw new Error(`sources: ${src.name}.freshStandby is not configured: drill --fresh needs an empty tenant to restore into`);
  const flip = <T>(a: T, b: T): [T, T] => {
    if (opts.fresh) return [a, (src.freshStandby as T | undefined) ?? b];
    return opts.reversed ? [b, a] : [a, b];
  };
  switch (src.service) {
    case 'github': {
      const { createGithubConnector } = await import('../../connectors/github/index.js');
      const [source, standby] = flip(src.source, src.standby).map(githubTenant) as [GithubTenant, GithubTenant];
      return createGithubConnector({
        source,
        standby,
        include: src.include,
        exclude: src.exclude,
        identity: { users: opts.reversed ? invert(src.identity.users) : src.identity.users },
        useImportEndpoint: src.options.useImportEndpoint,
        contentCreationPerMinute: src.options.contentCreationPerMinute,
        contentCreationPerHour: src.options.contentCreationPerHour,
        log,
      });
    }
    case 'google': {
      const { createGoogleConnector } = await import('../../connectors/google/index.js');
      const [source, standby] = flip(src.source, src.standby).map(googleTenant) as [ReturnType<typeof googleTenant>, ReturnType<typeof googleTenant>];
      return createGoogleConnector({
        source,
        standby,
        identity: opts.reversed ? { domains: invert(src.identity.domains), users: invert(src.identity.users) } : src.identity,
        convertOfficeToNative: src.options.convertOfficeToNative,
        include: src.include,
        exclude: src.exclude,
        ...(src.options.gmailUnitsPerSecond !== undefined ? { gmailUnitsPerSecond: src.options.gmailUnitsPerSecond } : {}),
        log,
      });
    }
    case 'microsoft': {
      const { createMicrosoftConnector } = await import('../../connectors/microsoft/index.js');
      const [source, standby] = flip(src.source, src.standby).map(microsoftTenant) as [ReturnType<typeof microsoftTenant>, ReturnType<typeof microsoftTenant>];
      return createMicrosoftConnector({
        source,
        standby,
        identity: opts.reversed ? { domains: invert(src.identity.domains), users: invert(src.identity.users) } : src.identity,
        include: src.include,
        exclude: src.exclude,
        mailboxConcurrency: src.options.mailboxConcurrency,
        mailboxRequestsPer10Minutes: src.options.mailboxRequestsPer10Minutes,
        log,
      });
    }
  }
}

function githubTenant(e: GithubEndpoint): GithubTenant {
  return {
    baseUrl: e.baseUrl,
    org: e.org,
    auth: e.auth.type === 'token' ? { type: 'token', token: e.auth.token.reveal() } : { type: 'app', appId: e.auth.appId, installationId: e.auth.installationId, privateKey: e.auth.privateKey.reveal() },
  };
}

function googleTenant(e: GoogleEndpoint) {
  return {
    domain: e.domain,
    adminUser: e.adminUser,
    serviceAccount: { clientEmail: e.serviceAccount.clientEmail, privateKey: e.serviceAccount.privateKey.reveal() },
    rootUrl: e.rootUrl,
    tokenUrl: e.tokenUrl,
  };
}

function microsoftTenant(e: MicrosoftEndpoint) {
  return {
    tenantId: e.tenantId,
    clientId: e.clientId,
    clientSecret: e.clientSecret.reveal(),
    authorityHost: e.authorityHost,
    graphBaseUrl: e.graphBaseUrl,
    ...(e.caFile ? { caCertificate: readFileSync(e.caFile, 'utf8') } : {}),
  };
}

function invert(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([a, b]) => [b, a]));
}
