import type { SimRequest, SimResponse } from './sim-http';
import { isRecord, json, newGuid } from './sim-http';
import type { TenantState } from './tenant-state';

/** The stable Microsoft.SecurityInsights version the responder must use. */
export const SENTINEL_API_VERSION = '2025-09-01';

const INCIDENT_PATH =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/]+\/providers\/Microsoft\.SecurityInsights\/incidents\/([^/]+))(?:\/(entities|alerts|comments)(?:\/([^/]+))?)?$/i;

/** Microsoft.OperationalInsights Workspaces - Get (the responder reads a workspace's customer id). */
export const WORKSPACE_API_VERSION = '2023-09-01';
const WORKSPACE_PATH = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.OperationalInsights\/workspaces\/([^/]+)$/i;

/** GET of a Log Analytics workspace: its ARM record with `properties.customerId`, or 404. */
function getWorkspace(state: TenantState, req: SimRequest, m: RegExpExecArray): SimResponse {
  if (req.method.toUpperCase() !== 'GET') {
    return armError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed on a workspace.`);
  }
  if (req.query.get('api-version') !== WORKSPACE_API_VERSION) {
    return armError(400, 'InvalidApiVersionParameter', `The api-version '${req.query.get('api-version') ?? ''}' is invalid. The supported versions are '${WORKSPACE_API_VERSION}'.`);
  }
  const [, sub = '', rg = '', name = ''] = m;
  const ws = [...state.workspaces.values()].find(
    (w) => w.subscriptionId.toLowerCase() === sub.toLowerCase() && w.resourceGroup.toLowerCase() === rg.toLowerCase() && w.workspaceName.toLowerCase() === name.toLowerCase(),
  );
  if (!ws) {
    return armError(404, 'ResourceNotFound', `The Resource 'Microsoft.OperationalInsights/workspaces/${name}' under resource group '${rg}' was not found.`);
  }
  return json(200, {
    id: `/subscriptions/${ws.subscriptionId}/resourceGroups/${ws.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${ws.workspaceName}`,
    name: ws.workspaceName,
    type: 'Microsoft.OperationalInsights/workspaces',
    properties: { customerId: ws.customerId, provisioningState: 'Succeeded' },
  });
}

function armError(status: number, code: string, message: string): SimResponse {
  return json(status, { error: { code, message } });
}

function etag(): string {
  return `"${newGuid()}"`;
}

/**
 * Sentinel incidents over ARM: GET/PUT the incident, POST entities, POST alerts, GET/PUT comments
 * (PUT is create-or-update by the caller's comment id, so a retried comment is idempotent).
 */
export function handleArm(state: TenantState, req: SimRequest): SimResponse {
  let path = req.path;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    // keep the raw path; it will not match
  }
  const workspace = WORKSPACE_PATH.exec(path);
  if (workspace) {
    return getWorkspace(state, req, workspace);
  }
  const m = INCIDENT_PATH.exec(path);
  if (!m) {
    return armError(
      404,
      'InvalidResourceType',
      `The resource type could not be found in the namespace for path '${req.path}' (the simulator serves Microsoft.SecurityInsights incidents only).`,
    );
  }
  const apiVersion = req.query.get('api-version');
  if (!apiVersion) {
    return armError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
  }
  if (apiVersion !== SENTINEL_API_VERSION) {
    return armError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${apiVersion}' is invalid. The supported versions are '${SENTINEL_API_VERSION}'.`,
    );
  }
  const incidentId = m[1] as string;
  const sub = m[3]?.toLowerCase();
  const childName = m[4];
  const method = req.method.toUpperCase();
  const incident = state.incidents.get(incidentId.toLowerCase());

  if (!sub) {
    if (method === 'GET') {
      return incident ? json(200, incident.resource) : notFoundIncident(m[2] as string);
    }
    if (method === 'PUT') {
      return putIncident(state, incidentId, req.body, incident !== undefined);
    }
    return armError(405, 'MethodNotAllowed', `The method '${method}' is not allowed on an incident.`);
  }
  if (!incident) {
    return notFoundIncident(m[2] as string);
  }
  if (sub === 'entities' && method === 'POST' && !childName) {
    const counts = new Map<string, number>();
    for (const e of incident.entities) {
      const kind = typeof e.kind === 'string' ? e.kind : 'Unknown';
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return json(200, {
      entities: incident.entities,
      metaData: [...counts].map(([entityKind, count]) => ({ entityKind, count })),
    });
  }
  if (sub === 'alerts' && method === 'POST' && !childName) {
    return json(200, { value: incident.alerts });
  }
  if (sub === 'comments') {
    if (!childName && method === 'GET') {
      return json(200, { value: [...incident.comments.values()] });
    }
    if (childName && method === 'GET') {
      const c = incident.comments.get(childName.toLowerCase());
      return c ? json(200, c) : armError(404, 'NotFound', `Comment '${childName}' was not found.`);
    }
    if (childName && method === 'PUT') {
      const body = req.body;
      if (!isRecord(body) || !isRecord(body.properties) || typeof body.properties.message !== 'string') {
        return armError(400, 'BadRequest', "The comment body must be { properties: { message: string } }.");
      }
      if (body.properties.message.length > 30_000) {
        return armError(400, 'BadRequest', 'The comment message exceeds 30000 characters.');
      }
      const existing = incident.comments.get(childName.toLowerCase());
      const now = new Date().toISOString();
      const comment = {
        id: `${incidentId}/comments/${childName}`,
        name: childName,
        type: 'Microsoft.SecurityInsights/Incidents/Comments',
        etag: etag(),
        properties: {
          message: body.properties.message,
          createdTimeUtc: existing?.properties.createdTimeUtc ?? now,
          lastModifiedTimeUtc: now,
          author: { objectId: state.responder.objectId, name: state.responder.displayName, userPrincipalName: null, email: null },
        },
      };
      incident.comments.set(childName.toLowerCase(), comment);
      const additional = incident.resource.properties.additionalData;
      if (isRecord(additional)) {
        additional.commentsCount = incident.comments.size;
      }
      return json(existing ? 200 : 201, comment);
    }
  }
  return armError(405, 'MethodNotAllowed', `The method '${method}' is not allowed on '${sub}'.`);
}

function notFoundIncident(name: string): SimResponse {
  return armError(404, 'NotFound', `Incident '${name}' was not found.`);
}

function putIncident(state: TenantState, incidentId: string, body: unknown, exists: boolean): SimResponse {
  if (!isRecord(body) || !isRecord(body.properties)) {
    return armError(400, 'BadRequest', 'The incident body must have properties.');
  }
  const p = body.properties;
  for (const field of ['title', 'severity', 'status']) {
    if (typeof p[field] !== 'string') {
      return armError(400, 'BadRequest', `The '${field}' property is required.`);
    }
  }
  if (!['New', 'Active', 'Closed'].includes(p.status as string)) {
    return armError(400, 'BadRequest', `Invalid status '${String(p.status)}'.`);
  }
  const existing = state.incidents.get(incidentId.toLowerCase());
  if (existing && typeof body.etag === 'string' && body.etag !== existing.resource.etag) {
    return armError(412, 'PreconditionFailed', 'The etag does not match the current incident; re-read and retry.');
  }
  if (p.status === 'Closed' && !p.classification) {
    return armError(400, 'BadRequest', 'A closed incident needs a classification.');
  }
  const record = state.putIncident({
    id: existing?.resource.id ?? incidentId,
    name: existing?.resource.name,
    etag: etag(),
    properties: { ...(existing?.resource.properties ?? {}), ...p, lastModifiedTimeUtc: new Date().toISOString() },
  });
  return json(exists ? 200 : 201, record.resource);
}
