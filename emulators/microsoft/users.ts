/**
 * Directory users: list, get (by id or userPrincipalName), delta (`@removed` with reason
 * 'changed' for deleted users; an expired or foreign token answers 400 `syncStateNotFound`).
 */
import type * as MSGraph from '@microsoft/microsoft-graph-types';
import { type ApiRequest, type DeltaEntry, type RouteDef, GraphApiError, applySelect, deltaPage, listPage, ok } from './http.js';
import type { UserState } from './state.js';

export function renderUser(u: UserState): MSGraph.User & Record<string, unknown> {
  return {
    id: u.id,
    businessPhones: [...u.businessPhones],
    displayName: u.displayName,
    givenName: u.givenName,
    jobTitle: u.jobTitle,
    mail: u.mail,
    mobilePhone: u.mobilePhone,
    officeLocation: u.officeLocation,
    preferredLanguage: u.preferredLanguage,
    surname: u.surname,
    userPrincipalName: u.userPrincipalName,
    accountEnabled: u.accountEnabled,
  };
}

export function userRoutes(): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/users',
      handler: (req) => listPage(req, [...req.tenant.users.values()], (u) => applySelect(renderUser(u), req.query.get('$select')), 100, 999),
    },
    {
      method: 'GET',
      path: '/users/delta',
      handler: (req: ApiRequest) =>
        deltaPage(req, {
          collection: 'users',
          defaultPageSize: 100,
          tokenParam: '$deltatoken',
          expired: () => new GraphApiError(400, 'syncStateNotFound', 'The sync state is not found or has expired. Please start a new delta query without a token.'),
          entries: (since, upto, full) => {
            const out: DeltaEntry[] = [];
            for (const u of req.tenant.users.values()) if (u.seq > since && u.seq <= upto) out.push({ seq: u.seq, id: u.id, render: () => renderUser(u) });
            if (!full) for (const x of req.tenant.userTombstones) if (x.seq > since && x.seq <= upto) out.push({ seq: x.seq, id: x.id, render: () => ({ id: x.id, '@removed': { reason: 'changed' } }) });
            return out;
          },
        }),
    },
    {
      method: 'GET',
      path: '/users/{user}',
      handler: (req) => ok(applySelect(renderUser(req.user as UserState), req.query.get('$select'))),
    },
  ];
}
