import type { TargetRef } from '../alerts/alert-types';
import type { DirectoryObject } from '../graph/identity-kind';
import { getServicePrincipalByAppId } from '../graph/service-principals';
import { getUser } from '../graph/users';

/** Resolves object ids in bulk (one `getByIds` for many ids, coalesced across cases). */
export interface ObjectResolver {
  resolve(ids: readonly string[]): Promise<Map<string, DirectoryObject>>;
}

/**
 * Resolves targets to their directory objects: object ids through the bulk resolver, appIds through
 * `servicePrincipals(appId='…')`, UPNs through `/users/{upn}` (these in parallel). Returns `null` for an identity
 * Graph answered it does not know. A failed or throttled call throws (the case is retried): it never turns into
 * "no such identity".
 */
export async function resolveTargets(
  deps: { resolver: ObjectResolver; graph: Parameters<typeof getUser>[0] },
  targets: readonly { key: string; ref: TargetRef }[],
): Promise<Map<string, DirectoryObject | null>> {
  const objectIds = targets.flatMap((t) => (t.ref.by === 'objectId' ? [t.ref.objectId] : []));
  const others = targets.filter((t) => t.ref.by !== 'objectId');
  const [bulk, singles] = await Promise.all([
    objectIds.length > 0 ? deps.resolver.resolve(objectIds) : Promise.resolve(new Map<string, DirectoryObject>()),
    Promise.all(others.map((t) => (t.ref.by === 'appId' ? getServicePrincipalByAppId(deps.graph, t.ref.appId) : t.ref.by === 'upn' ? getUser(deps.graph, t.ref.upn) : Promise.resolve(undefined)))),
  ]);
  const out = new Map<string, DirectoryObject | null>();
  for (const t of targets) {
    if (t.ref.by === 'objectId') {
      out.set(t.key, bulk.get(t.ref.objectId.toLowerCase()) ?? null);
    }
  }
  others.forEach((t, i) => out.set(t.key, singles[i] ?? null));
  return out;
}
