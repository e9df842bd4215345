import type { Config } from '../config';
import { parseClientPrincipal } from '../approvals/client-principal';

/** The person App Service Authentication signed in, once verified. */
export interface SignedInPrincipal {
  objectId: string;
  name: string;
  upn?: string;
  tenantId: string;
}

/** Either a verified principal, or why there is none. */
export type PrincipalCheck =
  | { ok: true; principal: SignedInPrincipal }
  | { ok: false; reason: 'auth-off' | 'signed-out' | 'invalid-token'; detail: string };

/**
 * The verified signed-in principal of a request.
 *
 * NOTE: placeholder with the agreed signature until the module that verifies App Service Authentication's token
 * lands (the lead takes that implementation at merge). Until then it reads `x-ms-client-principal`, which the
 * platform (and the local host) strip from client requests and set themselves.
 */
export function signedInPrincipal(_deps: { config: Config; now: () => number }, headers: { get(name: string): string | null }): Promise<PrincipalCheck> {
  const principal = parseClientPrincipal(headers);
  if (!principal) {
    return Promise.resolve({ ok: false, reason: 'signed-out', detail: 'no signed-in principal on the request' });
  }
  return Promise.resolve({
    ok: true,
    principal: {
      objectId: principal.objectId,
      name: principal.name,
      ...(principal.upn !== undefined ? { upn: principal.upn } : {}),
      tenantId: principal.tenantId ?? '',
    },
  });
}
