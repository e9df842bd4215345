import { IDENTITY_KINDS } from './identity-kinds';

/**
 * The kinds of identity the responders act on, told apart by the `@odata.type` Graph returns from
 * `directoryObjects/getByIds` or a GET by id.
 */
export type IdentityKind = 'agentIdentity' | 'agentBlueprintPrincipal' | 'servicePrincipal' | 'agentUser' | 'user' | 'other';

const KIND_BY_ODATA_TYPE: Record<string, IdentityKind> = {
  '#microsoft.graph.agentidentity': 'agentIdentity',
  '#microsoft.graph.agentidentityblueprintprincipal': 'agentBlueprintPrincipal',
  '#microsoft.graph.serviceprincipal': 'servicePrincipal',
  '#microsoft.graph.agentuser': 'agentUser',
  '#microsoft.graph.user': 'user',
};

export function kindOf(odataType: string | undefined): IdentityKind {
  return (odataType && KIND_BY_ODATA_TYPE[odataType.toLowerCase()]) || 'other';
}

/** Plain words for cases, tickets and approval pages (from the kind table). */
export const KIND_LABEL: Readonly<Record<IdentityKind, string>> = Object.fromEntries(
  Object.entries(IDENTITY_KINDS).map(([kind, facts]) => [kind, facts.label]),
) as Record<IdentityKind, string>;

/** A directory object as the responders need it; only the properties the rules read. */
export interface DirectoryObject {
  id: string;
  kind: IdentityKind;
  odataType: string;
  displayName?: string;
  appId?: string;
  userPrincipalName?: string;
  accountEnabled?: boolean;
  appOwnerOrganizationId?: string;
  agentIdentityBlueprintId?: string;
  tags?: string[];
}

/** Maps a raw Graph object to a {@link DirectoryObject}, ignoring unknown properties. */
export function toDirectoryObject(raw: Record<string, unknown>, fallbackType?: string): DirectoryObject {
  const odataType = typeof raw['@odata.type'] === 'string' ? raw['@odata.type'] : (fallbackType ?? '');
  const str = (key: string) => (typeof raw[key] === 'string' ? raw[key] : undefined);
  const obj: DirectoryObject = { id: String(raw['id']).toLowerCase(), kind: kindOf(odataType), odataType };
  const assign = <K extends keyof DirectoryObject>(key: K, value: DirectoryObject[K] | undefined) => {
    if (value !== undefined) {
      obj[key] = value;
    }
  };
  assign('displayName', str('displayName'));
  assign('appId', str('appId')?.toLowerCase());
  assign('userPrincipalName', str('userPrincipalName'));
  assign('accountEnabled', typeof raw['accountEnabled'] === 'boolean' ? raw['accountEnabled'] : undefined);
  assign('appOwnerOrganizationId', str('appOwnerOrganizationId')?.toLowerCase());
  assign('agentIdentityBlueprintId', str('agentIdentityBlueprintId')?.toLowerCase());
  assign('tags', Array.isArray(raw['tags']) ? raw['tags'].filter((t): t is string => typeof t === 'string') : undefined);
  return obj;
}
