import { z } from 'zod';

/** The signed-in person as App Service Authentication (Easy Auth) describes them. */
export interface ClientPrincipal {
  /** Entra object id, lower-case GUID: the identity used for every approval rule. */
  objectId: string;
  /** Display name, for pages and audit; never used for a decision. */
  name: string;
  /** Sign-in name (UPN or e-mail) when the token carries one. */
  upn?: string;
  /** Directory (tenant) id when the token carries one, lower-case. */
  tenantId?: string;
  /** Easy Auth's `auth_typ`, e.g. `aad`. */
  identityProvider: string;
  roles: string[];
}

/** The header's JSON, as Easy Auth writes it. Claims are checked one by one so one odd claim does not void the rest. */
export const clientPrincipalHeaderSchema = z.object({
  auth_typ: z.string().min(1),
  claims: z.array(z.unknown()),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
});
export type ClientPrincipalHeader = z.infer<typeof clientPrincipalHeaderSchema>;

const claimSchema = z.object({ typ: z.string(), val: z.string() });

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
const TENANT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/tenantid', 'tid'];
const UPN_CLAIMS = [
  'preferred_username',
  'upn',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  'email',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];

/** Easy Auth's header is a few KB at most; anything far larger is not from it. */
const MAX_HEADER_LENGTH = 64 * 1024;

/**
 * Reads the signed-in principal from `x-ms-client-principal` (base64 JSON `{auth_typ, claims:[{typ,val}],
 * name_typ, role_typ}`). Returns undefined when the header is missing or malformed, or carries no GUID object id;
 * never throws.
 *
 * The header is trustworthy only behind App Service Authentication, which removes any copy a client sends; the
 * app must not be reachable around it.
 *
 * NOTE: header format: https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities
 */
export function parseClientPrincipal(headers: { get(name: string): string | null }): ClientPrincipal | undefined {
  let raw: string | null;
  try {
    raw = headers.get('x-ms-client-principal');
  } catch {
    return undefined;
  }
  if (typeof raw !== 'string') {
    return undefined;
  }
  const encoded = raw.trim();
  // Easy Auth writes standard base64; url-safe is accepted too, as proxies sometimes re-encode.
  if (encoded.length === 0 || encoded.length > MAX_HEADER_LENGTH || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const header = clientPrincipalHeaderSchema.safeParse(json);
  if (!header.success) {
    return undefined;
  }
  return toPrincipal(header.data);
}

function toPrincipal(header: ClientPrincipalHeader): ClientPrincipal | undefined {
  const claims = header.claims.flatMap((c) => {
    const parsed = claimSchema.safeParse(c);
    return parsed.success ? [parsed.data] : [];
  });
  const first = (types: readonly string[]): string | undefined => {
    for (const typ of types) {
      const value = claims.find((c) => c.typ === typ)?.val.trim();
      if (value !== undefined && value.length > 0) {
        return value;
      }
    }
    return undefined;
  };

  const objectId = first(OBJECT_ID_CLAIMS)?.toLowerCase();
  if (objectId === undefined || !GUID.test(objectId)) {
    return undefined;
  }
  const nameTyp = header.name_typ !== undefined && header.name_typ.length > 0 ? [header.name_typ] : [];
  const upn = first([...UPN_CLAIMS, ...nameTyp]);
  const name = first(['name', ...nameTyp]) ?? upn ?? objectId;
  const tenantId = first(TENANT_ID_CLAIMS)?.toLowerCase();
  const roleTypes = new Set([...ROLE_CLAIMS, ...(header.role_typ !== undefined ? [header.role_typ] : [])]);
  const roles = [...new Set(claims.filter((c) => roleTypes.has(c.typ)).map((c) => c.val))];

  const principal: ClientPrincipal = { objectId, name, identityProvider: header.auth_typ, roles };
  if (upn !== undefined) {
    principal.upn = upn;
  }
  if (tenantId !== undefined) {
    principal.tenantId = tenantId;
  }
  return principal;
}
