/**
 * What `POST /alerts` understood from a body, whichever of the four accepted shapes it came in.
 * Produced only by `parseAlert`; everything downstream works from this, never from the raw body.
 */

/** Which shape the body had: Sentinel incident, alert or entity trigger, or a direct request. */
export type AlertSource = 'incident' | 'alert' | 'entity' | 'direct';

export type Severity = 'High' | 'Medium' | 'Low' | 'Informational';

/** The Log Analytics workspace a Sentinel body came from. `subscriptionId` is lower-case. */
export interface WorkspaceRef {
  subscriptionId: string;
  resourceGroup: string;
  workspaceName?: string;
  /**
   * The workspace's customer id (lower-case GUID), as posted: the alert trigger's `WorkspaceId`, the incident
   * trigger's `workspaceId`. The Log Analytics query API addresses a workspace by it
   * (`https://api.loganalytics.io/v1/workspaces/{customerId}/query`), which is how an alert is read back
   * (`SecurityAlert` by `SystemAlertId`). Posted, so not proof of anything: check it belongs to the allowed
   * workspace (ARM `properties.customerId`) before trusting what is read through it.
   */
  customerId?: string;
}

/** How a target was named; resolution to a directory object happens later through Graph. */
export type TargetRef =
  /** `objectId` is a lower-case GUID; `upn` (lower-case) and `name` are for display only. */
  | { by: 'objectId'; objectId: string; upn?: string; name?: string }
  /** An Entra application (client) id, lower-case GUID. */
  | { by: 'appId'; appId: string; name?: string }
  /** A lower-cased user principal name. */
  | { by: 'upn'; upn: string; name?: string };

/** An entity that names no one the responder could act on, and why; kept for the case record. */
export interface RejectedEntity {
  /** JSON path of the entity in the body, e.g. `object.properties.relatedEntities[4]`. */
  path: string;
  /** The entity kind as posted (`Ip`, `account`, …), or `unknown`. */
  kind: string;
  name?: string;
  reason: string;
}

export interface ParsedAlert {
  source: AlertSource;
  /**
   * Stable key for duplicate detection: `incident:<lower-case incident ARM id>`, `alert:<systemAlertId lower>`,
   * `entity:<incidentArmId lower or none>:<sha256 of the canonical entity JSON, 16 hex>`,
   * `direct:<sha256 of canonical request JSON, 16 hex>`.
   */
  dedupeKey: string;
  eventType?: 'Create' | 'Update';
  /** As given (case kept), e.g. `/subscriptions/…/providers/Microsoft.SecurityInsights/incidents/<guid>`. */
  incidentArmId?: string;
  incidentNumber?: number;
  incidentUrl?: string;
  /** `New` | `Active` | `Closed`, as posted. */
  incidentStatus?: string;
  /** The alert's `SystemAlertId`. */
  alertId?: string;
  workspace?: WorkspaceRef;
  /** Incident title, `AlertDisplayName`, or the direct request's `reason`. */
  title: string;
  /** `Medium` when absent or unrecognised. */
  severity: Severity;
  /**
   * `true` when the body named no severity, or one that is none of the four, so that `severity` is only the
   * `Medium` default: a severity gate should not take the default for a fact. Absent when it was posted.
   */
  severityDefaulted?: true;
  /** De-duplicated: the same objectId / appId / upn appears once. */
  targets: TargetRef[];
  /**
   * Entities that identify no one, with the reason; never resolved by guessing. Bounded: the first
   * `MAX_REJECTED_LISTED` distinct ones (`shared/alerts/collect-targets.ts`), each with clipped texts.
   */
  rejected: RejectedEntity[];
  /** How many more rejected entities the body had than `rejected` lists; absent when none were left out. */
  rejectedOmitted?: number;
}

/**
 * The identity of a target for de-duplication and lookups: `oid:<id>`, `app:<appId>` or `upn:<upn>`.
 *
 * @example
 * targetKey({ by: 'appId', appId: '0f6e…' }); // 'app:0f6e…'
 */
export function targetKey(t: TargetRef): string {
  switch (t.by) {
    case 'objectId':
      return `oid:${t.objectId}`;
    case 'appId':
      return `app:${t.appId}`;
    case 'upn':
      return `upn:${t.upn}`;
  }
}
