import type { TokenCredential } from '@azure/identity';
import { UpstreamError } from '../errors';
import { httpJson, type HttpJsonOptions } from '../net/http-json';
import { bearerHeaders } from '../net/bearer-headers';
import type { IncidentArmId } from './incident-arm-id';

/** Stable Sentinel API version (reference/sentinel/payloads.md). */
export const SENTINEL_API_VERSION = '2025-09-01';
export const ARM_SCOPE = 'https://management.azure.com/.default';

export interface IncidentState {
  armId: string;
  title: string;
  severity: string;
  status: string;
}

/** An entity as ARM returns it: `{ kind, properties }`. */
export interface ArmEntity {
  kind: string;
  properties: Record<string, unknown>;
}

export interface Sentinel {
  /** The incident as Sentinel holds it now; undefined when ARM says it does not exist. */
  getIncident(id: IncidentArmId): Promise<IncidentState | undefined>;
  listEntities(id: IncidentArmId): Promise<ArmEntity[]>;
  /** Create-or-update a comment; a deterministic `commentId` makes a retried comment idempotent. */
  putComment(id: IncidentArmId, commentId: string, message: string): Promise<void>;
  /**
   * The Log Analytics customer id (`properties.customerId`) of a workspace; undefined when ARM says there is no such
   * workspace. Cached for the life of the worker: it never changes.
   */
  workspaceCustomerId(ws: { subscriptionId: string; resourceGroup: string; workspaceName: string }): Promise<string | undefined>;
}

/** Workspaces - Get, stable (Microsoft.OperationalInsights). */
export const WORKSPACE_API_VERSION = '2023-09-01';

export function incidentUrl(endpoint: string, id: IncidentArmId, suffix = ''): string {
  const path =
    `/subscriptions/${encodeURIComponent(id.subscriptionId)}/resourceGroups/${encodeURIComponent(id.resourceGroup)}` +
    `/providers/Microsoft.OperationalInsights/workspaces/${encodeURIComponent(id.workspaceName)}` +
    `/providers/Microsoft.SecurityInsights/incidents/${encodeURIComponent(id.incidentId)}${suffix}`;
  return `${endpoint}${path}?api-version=${SENTINEL_API_VERSION}`;
}

/**
 * ARM client for the Sentinel incident endpoints, authenticated with the app's managed identity. Every call has a
 * time-out per attempt and a budget (`shared/net/call-timeout.ts`); reads and the comment PUT are retried after
 * any transient failure, the PUT safely because its comment id is the caller's.
 */
export function createSentinel(options: { credential: TokenCredential; endpoint: string; http?: HttpJsonOptions }): Sentinel {
  const headers = bearerHeaders(options.credential, ARM_SCOPE, 'ARM');
  const customerIds = new Map<string, Promise<string | undefined>>();
  return {
    workspaceCustomerId(ws) {
      const key = `${ws.subscriptionId}/${ws.resourceGroup}/${ws.workspaceName}`.toLowerCase();
      let known = customerIds.get(key);
      if (!known) {
        const url =
          `${options.endpoint}/subscriptions/${encodeURIComponent(ws.subscriptionId)}/resourceGroups/${encodeURIComponent(ws.resourceGroup)}` +
          `/providers/Microsoft.OperationalInsights/workspaces/${encodeURIComponent(ws.workspaceName)}?api-version=${WORKSPACE_API_VERSION}`;
        known = httpJson<{ properties?: { customerId?: unknown } }>('ARM', { method: 'GET', url, headers }, options.http).then(
          (res) => (typeof res.body.properties?.customerId === 'string' ? res.body.properties.customerId.toLowerCase() : undefined),
          (err: unknown) => {
            if (err instanceof UpstreamError && err.httpStatus === 404) {
              return undefined;
            }
            throw err;
          },
        );
        // A failed read is not remembered: the next alert asks again.
        known.catch(() => customerIds.delete(key));
        customerIds.set(key, known);
      }
      return known;
    },
    async getIncident(id) {
      try {
        const res = await httpJson<{ id: string; properties?: Record<string, unknown> }>('ARM', { method: 'GET', url: incidentUrl(options.endpoint, id), headers }, options.http);
        const p = res.body.properties ?? {};
        const text = (v: unknown) => (typeof v === 'string' ? v : '');
        return { armId: res.body.id, title: text(p['title']), severity: text(p['severity']), status: text(p['status']) };
      } catch (err) {
        if (err instanceof UpstreamError && err.httpStatus === 404) {
          return undefined;
        }
        throw err;
      }
    },
    async listEntities(id) {
      // NOTE: listing entities is a POST in ARM (Incidents - List Entities), a read: safe to repeat.
      const res = await httpJson<{ entities?: ArmEntity[] }>('ARM', { method: 'POST', url: incidentUrl(options.endpoint, id, '/entities'), headers, idempotent: true }, options.http);
      return res.body.entities ?? [];
    },
    async putComment(id, commentId, message) {
      await httpJson('ARM', { method: 'PUT', url: incidentUrl(options.endpoint, id, `/comments/${encodeURIComponent(commentId)}`), headers, body: { properties: { message } } }, options.http);
    },
  };
}
