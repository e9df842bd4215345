import { seg } from './graph-client';
import type { IdentityKind } from './identity-kind';

/** The Identity Protection collection that holds an identity's risk. */
export type RiskApi = 'riskyAgents' | 'riskyServicePrincipals' | 'riskyUsers';

/** Everything that differs by identity kind; adding a kind is one row here (the compiler lists the rest). */
export interface KindFacts {
  /** Plain words for cases, tickets and approval pages. */
  label: string;
  /**
   * The URL that addresses the object through its own type, so Graph applies that type's rules and the
   * least-privileged permission for it (e.g. `AgentIdentity.EnableDisable.All`, not `Application.ReadWrite.All`).
   */
  path?: (id: string) => string;
  /** How its access is cut: `accountEnabled = false`, or (agent users, users) revoking its sign-in sessions. */
  cut?: 'disable' | 'revoke-sessions';
  /** Where Identity Protection keeps its risk. */
  risk?: RiskApi;
  /** Whether its sessions are revoked as part of containment (accounts that sign in). */
  sessions: boolean;
  /** Whether the lifecycle sweep may delete it (through `path`; restorable for 30 days). */
  deletable: boolean;
  /** Why cutting its access always waits for an approver, if it does. */
  hold?: string;
  /** Which setting says how many approvers a release needs. */
  releaseQuorum: 'APPROVAL_QUORUM' | 'BLUEPRINT_RELEASE_QUORUM';
  /** A person rather than an agent: acted on only when `CONTAIN_HUMAN_USERS` is on. */
  human: boolean;
  /** Its sponsors and owners collections (who may not approve its release). */
  sponsors?: (id: string) => string;
  owners?: (id: string) => string;
}

const agentIdentityPath = (id: string): string => `/servicePrincipals/${seg(id)}/microsoft.graph.agentIdentity`;
const blueprintPath = (id: string): string => `/servicePrincipals/${seg(id)}/microsoft.graph.agentIdentityBlueprintPrincipal`;
const spOwners = (id: string): string => `/servicePrincipals/${seg(id)}/owners`;
const userSponsors = (id: string): string => `/users/${seg(id)}/sponsors`;

/**
 * The containment table of DESIGN.md, as data (facts from /work/shared/reference/graph/api-facts.md): the
 * typed path, whether the kind can be disabled, its risk API, sessions, deletion, holds and release quorum.
 */
export const IDENTITY_KINDS: Readonly<Record<IdentityKind, KindFacts>> = {
  agentIdentity: {
    label: 'agent identity',
    path: agentIdentityPath,
    cut: 'disable',
    // NOTE: riskyAgents exists only in beta (reference/graph/api-facts.md).
    risk: 'riskyAgents',
    sessions: false,
    deletable: true,
    releaseQuorum: 'APPROVAL_QUORUM',
    human: false,
    sponsors: (id) => `${agentIdentityPath(id)}/sponsors`,
    owners: spOwners,
  },
  agentBlueprintPrincipal: {
    label: 'agent blueprint principal',
    path: blueprintPath,
    cut: 'disable',
    risk: 'riskyAgents',
    sessions: false,
    deletable: true,
    hold: 'Agent blueprint principal: disabling it disables every agent of the blueprint, so it waits for approval.',
    releaseQuorum: 'BLUEPRINT_RELEASE_QUORUM',
    human: false,
    sponsors: (id) => `${blueprintPath(id)}/sponsors`,
    owners: spOwners,
  },
  servicePrincipal: {
    label: 'service principal',
    path: (id) => `/servicePrincipals/${seg(id)}`,
    cut: 'disable',
    risk: 'riskyServicePrincipals',
    sessions: false,
    deletable: true,
    releaseQuorum: 'APPROVAL_QUORUM',
    human: false,
    owners: spOwners,
  },
  agentUser: {
    label: 'agent user account',
    path: (id) => `/users/${seg(id)}/microsoft.graph.agentUser`,
    cut: 'revoke-sessions',
    risk: 'riskyAgents',
    sessions: true,
    deletable: false,
    releaseQuorum: 'APPROVAL_QUORUM',
    human: false,
    sponsors: userSponsors,
  },
  user: {
    label: 'user',
    path: (id) => `/users/${seg(id)}`,
    cut: 'revoke-sessions',
    risk: 'riskyUsers',
    sessions: true,
    deletable: false,
    releaseQuorum: 'APPROVAL_QUORUM',
    human: true,
    sponsors: userSponsors,
  },
  other: {
    label: 'directory object',
    sessions: false,
    deletable: false,
    releaseQuorum: 'APPROVAL_QUORUM',
    human: false,
  },
};

/** The facts of a kind; an unknown kind reads as `other` (acted on by nobody). */
export function kindFacts(kind: IdentityKind | undefined): KindFacts {
  return IDENTITY_KINDS[kind ?? 'other'];
}
