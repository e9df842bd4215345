import { getByIds } from '../graph/directory-objects';
import { ensureError } from '../errors';
import type { ApprovalDeps } from './request-approval';

/** Entries of the "who may decide" sentence before it is cut short: the page must stay readable on a phone. */
const MAX_NAMED_APPROVERS = 8;

export interface ApproverLookup {
  /** Plain words for the page and the mail: who may decide. */
  text: string;
  /** Object id and sign-in address of each user listed in `APPROVERS` directly (groups are not expanded). */
  mailboxes: { id: string; address: string }[];
  /** False when Graph could not be read: `mailboxes` is then empty for want of an answer, not because nobody is listed. */
  complete: boolean;
}

/**
 * Names the approvers (one `getByIds` call for users and groups alike), so the page says who may decide in
 * words a person recognises. Membership itself is checked again at decision time, never taken from here.
 */
export async function lookUpApprovers(deps: Pick<ApprovalDeps, 'config' | 'graph' | 'log'>, approvalId: string): Promise<ApproverLookup> {
  const ids = deps.config.APPROVERS;
  const rule = 'Membership is checked in Microsoft Entra when you decide. The requester, the identity’s sponsors and owners, and the responder itself cannot approve.';
  if (ids.length === 0) {
    return { text: 'Nobody: APPROVERS is empty, so no one can approve this request. Ask an administrator to set it.', mailboxes: [], complete: true };
  }
  let objects: Awaited<ReturnType<typeof getByIds>>['objects'] = [];
  try {
    objects = (await getByIds(deps.graph, ids)).objects;
  } catch (err) {
    deps.log?.warn(`approval ${approvalId}: could not name the approvers: ${ensureError(err).message}`);
    return { text: `The ${ids.length} people and groups listed in APPROVERS. ${rule}`, mailboxes: [], complete: false };
  }
  const byId = new Map(objects.map((o) => [o.id, o]));
  const people: string[] = [];
  const groups: string[] = [];
  const mailboxes: ApproverLookup['mailboxes'] = [];
  for (const id of ids) {
    const o = byId.get(id);
    if (o === undefined) {
      people.push(`the directory object ${id} (not found)`);
    } else if (o.odataType.toLowerCase() === '#microsoft.graph.group') {
      groups.push(o.displayName ?? id);
    } else {
      people.push(o.userPrincipalName ? `${o.displayName ?? o.userPrincipalName} (${o.userPrincipalName})` : (o.displayName ?? id));
      if (o.userPrincipalName && o.kind === 'user') {
        mailboxes.push({ id, address: o.userPrincipalName });
      }
    }
  }
  const entries = [...people, ...groups.map((g) => `a member of the group ${g}`)];
  const shown = entries.slice(0, MAX_NAMED_APPROVERS);
  const more = entries.length - shown.length;
  const list = more > 0 ? `${shown.join(', ')}, and ${more} more listed in APPROVERS` : joinOr(shown);
  return { text: `${list}. ${rule}`, mailboxes, complete: true };
}

function joinOr(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}
