import type { SourceConfig } from '../config/schema.js';

/** One switch step of a failover, with the concrete values an admin needs. */
export interface RunbookStep {
  title: string;
  details: string[];
  /** Set when a configured hook automates this step. */
  hook?: { name: string; run: string; timeoutMs: number };
}

/**
 * The switch steps for moving production from the config's source to its standby (on failover and
 * on failback alike: after a failover the config's source and standby are swapped), derived from
 * the config: the values are concrete, not placeholders.
 * `scopes` are the display names of the scopes possessed (repositories, mailboxes ...).
 */
export function buildRunbook(src: SourceConfig, scopes: string[]): RunbookStep[] {
  const steps: RunbookStep[] = [];
  if (src.service === 'github') {
    const to = src.standby;
    const from = src.source;
    const web = webOrigin(to.baseUrl);
    steps.push({
      title: `Point every clone at ${web}/${to.org}`,
      details: scopes.map((s) => {
        const repo = s.split('/').pop() ?? s;
        return `git remote set-url origin ${web}/${to.org}/${repo}.git   # was ${webOrigin(from.baseUrl)}/${from.org}/${repo}.git`;
      }),
    });
    steps.push({
      title: `Re-create what GitHub cannot export in ${to.org}`,
      details: [
        'Actions secrets and variables, deploy keys, webhooks, branch protection rules, team permissions (not possessed: see the gap report)',
        `Invite members to ${web}/orgs/${to.org}/people and map teams`,
      ],
    });
    steps.push({ title: 'Sign-in', details: [`${web}/${to.org}`, `API: ${to.baseUrl}`] });
  } else if (src.service === 'google') {
    const to = src.standby;
    const from = src.source;
    steps.push({
      title: `Route mail for ${from.domain} to the tenant of ${to.domain}`,
      details: [
        `Remove ${from.domain} from the Google Workspace tenant of ${from.domain}, then add it as a secondary domain of the tenant of ${to.domain} (admin.google.com > Account > Domains)`,
        `DNS: ${from.domain}. MX 1 smtp.google.com.`,
        `DNS: ${from.domain}. TXT "v=spf1 include:_spf.google.com ~all"`,
        'DKIM: generate a key in the new tenant (Apps > Gmail > Authenticate email) and publish its TXT record',
      ],
    });
    steps.push({
      title: 'Users sign in to the standby domain',
      details: [`https://mail.google.com/a/${to.domain}`, `https://drive.google.com/a/${to.domain}`, `Admin: https://admin.google.com (as ${to.adminUser})`, 'Passwords cannot be exported: set or reset them in the new tenant (or switch SSO)'],
    });
  } else {
    const to = src.standby;
    const domains = Object.keys(src.identity.domains);
    steps.push({
      title: `Route mail to tenant ${to.tenantId}`,
      details: domains.length
        ? domains.flatMap((d) => [
            `DNS: ${d}. MX 0 ${d.replace(/\./g, '-')}.mail.protection.outlook.com.   # after moving ${d} to tenant ${to.tenantId}`,
            `DNS: ${d}. TXT "v=spf1 include:spf.protection.outlook.com -all"`,
            `DNS: autodiscover.${d}. CNAME autodiscover.outlook.com.`,
          ])
        : ['Move each accepted domain to the standby tenant and update its MX, SPF and autodiscover records'],
    });
    steps.push({
      title: 'Users sign in to the standby tenant',
      details: [`${to.authorityHost}/${to.tenantId}`, 'https://outlook.office.com', 'Passwords and MFA registrations cannot be exported: reset or federate'],
    });
  }
  for (const hook of src.failover.hooks) {
    steps.push({ title: hook.name, details: [`hook: ${hook.run}`], hook: { name: hook.name, run: hook.run, timeoutMs: hook.timeout } });
  }
  return steps;
}

/** The web origin of a GitHub API base URL: api.github.com -> github.com; GHES /api/v3 -> its origin. */
export function webOrigin(apiBaseUrl: string): string {
  const u = new URL(apiBaseUrl);
  if (u.hostname === 'api.github.com') return 'https://github.com';
  return u.origin;
}

export function renderRunbook(steps: RunbookStep[]): string {
  return steps.map((s, i) => `${i + 1}. ${s.title}${s.hook ? '   [automated by hook]' : ''}\n${s.details.map((d) => `     ${d}`).join('\n')}`).join('\n');
}
