import type { Config } from '../config';

/** Where App Service Authentication stands, from the variables App Service sets when the module is on. */
export type AuthSettings =
  | {
      on: true;
      /** The app registration's client id: the audience of every token the app accepts. */
      clientId: string;
      /** `WEBSITE_AUTH_OPENID_ISSUER`, no trailing slash: where the OpenID configuration is read. */
      openIdIssuer: string;
      /** Lower-case tenant id named by the issuer: every accepted token must carry it as `tid`. */
      tenantId: string;
    }
  | { on: false; detail: string };

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

type AuthConfig = Pick<Config, 'WEBSITE_AUTH_ENABLED' | 'WEBSITE_AUTH_CLIENT_ID' | 'WEBSITE_AUTH_OPENID_ISSUER'>;

/**
 * Whether the app can verify who is signed in: App Service Authentication on (`WEBSITE_AUTH_ENABLED=True`),
 * with a client id (token audience) and a single-tenant issuer (token tenant). Anything less and no signed-in
 * principal is trusted, whatever headers a request carries.
 *
 * NOTE: App Service sets these variables when the module is on; Microsoft.Identity.Web reads the same ones.
 * https://learn.microsoft.com/azure/app-service/reference-app-settings#authentication--authorization
 */
export function authSettings(config: AuthConfig): AuthSettings {
  if (!config.WEBSITE_AUTH_ENABLED) {
    return { on: false, detail: 'App Service Authentication is off (WEBSITE_AUTH_ENABLED is not True): nobody can be verified as signed in.' };
  }
  if (!config.WEBSITE_AUTH_CLIENT_ID) {
    return { on: false, detail: 'WEBSITE_AUTH_CLIENT_ID is not set: the app cannot check whom a token was issued to.' };
  }
  if (!config.WEBSITE_AUTH_OPENID_ISSUER) {
    return { on: false, detail: 'WEBSITE_AUTH_OPENID_ISSUER is not set: the app cannot find the keys that sign its tokens.' };
  }
  const tenantId = GUID.exec(config.WEBSITE_AUTH_OPENID_ISSUER)?.[0]?.toLowerCase();
  if (tenantId === undefined) {
    return { on: false, detail: 'WEBSITE_AUTH_OPENID_ISSUER names no tenant id (e.g. https://login.microsoftonline.com/<tenant id>/v2.0): a multi-tenant issuer cannot prove who signs in.' };
  }
  return { on: true, clientId: config.WEBSITE_AUTH_CLIENT_ID, openIdIssuer: config.WEBSITE_AUTH_OPENID_ISSUER, tenantId };
}

/** What `/api/health` and the start-up log say about sign-in. */
export interface AuthStatus {
  /** `verified`: signed-in people and callers are checked from Entra tokens; `off`: nobody is trusted as signed in. */
  signIn: 'verified' | 'off';
  detail: string;
}

/** The sign-in status in words an operator can act on (no secrets: the client id and issuer are public). */
export function authStatus(config: AuthConfig): AuthStatus {
  const settings = authSettings(config);
  if (!settings.on) {
    return { signIn: 'off', detail: `${settings.detail} Approvals, release requests and the intake caller allow-list refuse every request until it is on.` };
  }
  return {
    signIn: 'verified',
    detail: `Entra tokens are verified against ${settings.openIdIssuer} (audience ${settings.clientId}, tenant ${settings.tenantId}).`,
  };
}
