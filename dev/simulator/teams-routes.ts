import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { z } from 'zod';
import type { SimRequest, SimResponse } from './sim-http';
import { json, newGuid, sleep } from './sim-http';

/**
 * A Teams channel behind a Workflows webhook ("When a Teams webhook request is received" → "Post card in a chat
 * or channel"): the URL carries its signature in `sig` like the real one, each post is captured, and each card is
 * checked against the Adaptive Card schema 1.4, the highest version Workflows renders.
 *
 * The schema is vendored unchanged: `adaptive-card-1.4.0.schema.json` is `schemas/1.4.0/adaptive-card.json` of
 * https://github.com/microsoft/AdaptiveCards (last changed in commit 93695cf2df1117ab08e36ebe707d0ced18e4e9b3,
 * 2021-11-15; sha256 e1750b01c13459b1d937ae0a8792d825314d54ddd22b1c8159cfd809d2caab09), as published at
 * https://adaptivecards.io/schemas/1.4.0/adaptive-card.json.
 *
 * Deliberate difference: Workflows answers 202 to any JSON and fails later inside the flow run, where the caller
 * never sees it; the simulator answers 400 with the schema errors, so a test that posts a bad card fails loudly.
 */
export const TEAMS_PATH = '/powerautomate/automations/direct/workflows/5f0c0a7e0000400080000000000000ad/triggers/manual/paths/invoke';

export interface CapturedTeamsPost {
  id: string;
  at: number;
  /** 202 when the body was a message of valid Adaptive Cards. */
  status: number;
  errors: string[];
  body: unknown;
  /** The cards of an accepted post. */
  cards: Record<string, unknown>[];
}

/** What the next posts meet: a failure to answer (status, optional Retry-After) or a wait before answering. */
export const teamsBehaviourSchema = z.strictObject({
  failures: z.array(z.strictObject({ status: z.number().int().min(400).max(599), retryAfter: z.number().min(0).optional() })).optional(),
  hangMs: z.number().int().min(0).max(120_000).optional(),
  hangTimes: z.number().int().min(0).max(100).optional(),
});
export type TeamsBehaviour = z.infer<typeof teamsBehaviourSchema>;

export class TeamsChannel {
  readonly posts: CapturedTeamsPost[] = [];
  readonly sig = randomBytes(24).toString('base64url');
  private failures: { status: number; retryAfter?: number }[] = [];
  private hang = { ms: 0, times: 0 };

  /** The webhook URL to put in TEAMS_WEBHOOK_URL for a simulator at `baseUrl`. */
  webhookUrl(baseUrl: string): string {
    return `${baseUrl}${TEAMS_PATH}?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${this.sig}`;
  }

  /** Accepted cards, oldest first. */
  cards(): Record<string, unknown>[] {
    return this.posts.flatMap((p) => p.cards);
  }

  /** Answers the next posts with these failures, in order; or holds the next `hangTimes` posts for `hangMs`. */
  behave(b: TeamsBehaviour): void {
    const parsed = teamsBehaviourSchema.parse(b);
    this.failures.push(...(parsed.failures ?? []));
    if (parsed.hangMs !== undefined) {
      this.hang = { ms: parsed.hangMs, times: parsed.hangTimes ?? 1 };
    }
  }

  clear(): void {
    this.posts.length = 0;
    this.failures = [];
    this.hang = { ms: 0, times: 0 };
  }

  async handle(req: SimRequest): Promise<SimResponse> {
    if (req.method.toUpperCase() !== 'POST') {
      return json(405, { error: { code: 'MethodNotAllowed', message: 'The trigger accepts POST only.' } });
    }
    const sig = Buffer.from(req.query.get('sig') ?? '');
    const want = Buffer.from(this.sig);
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) {
      return json(401, { error: { code: 'DirectApiAuthorizationRequired', message: 'The request must be authenticated by the signature in the URL.' } });
    }
    if (this.hang.times > 0) {
      this.hang.times--;
      await sleep(this.hang.ms);
    }
    const failure = this.failures.shift();
    if (failure) {
      return json(failure.status, { error: { code: failure.status === 429 ? 'WorkflowRequestsThrottled' : 'ServiceError', message: 'Simulated failure.' } }, failure.retryAfter !== undefined ? { 'Retry-After': String(failure.retryAfter) } : {});
    }
    const errors = req.bodyInvalid ? ['the body is not JSON'] : checkTeamsMessage(req.body);
    const cards = errors.length === 0 ? ((req.body as { attachments: { content: Record<string, unknown> }[] }).attachments.map((a) => a.content)) : [];
    const post: CapturedTeamsPost = { id: newGuid(), at: Date.now(), status: errors.length === 0 ? 202 : 400, errors, body: req.body, cards };
    this.posts.push(post);
    return errors.length === 0 ? { status: 202 } : json(400, { error: { code: 'InvalidAdaptiveCard', message: errors.join('; ') } });
  }
}

let validator: ValidateFunction | undefined;

/** The official schema, compiled once; its draft-04 style root `id` is read as draft-06's `$id`. */
function adaptiveCardSchema(): ValidateFunction {
  if (!validator) {
    const name = 'adaptive-card-1.4.0.schema.json';
    // Under dist/ the JSON is not copied by tsc (it is read, not imported); fall back to the source tree.
    const file = [join(__dirname, name), join(__dirname, '..', '..', '..', 'dev', 'simulator', name), join(process.cwd(), 'dev', 'simulator', name)].find((f) => existsSync(f)) ?? name;
    const { id, ...schema } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addMetaSchema(draft06);
    addFormats(ajv);
    validator = ajv.compile({ $id: typeof id === 'string' ? id : undefined, ...schema });
  }
  return validator;
}

/**
 * What Teams would refuse in a webhook body: not a `message` with Adaptive Card attachments, a card that fails
 * the 1.4 schema, a version above 1.4, or `Action.Submit` (not supported in webhook cards). Empty when valid.
 *
 * NOTE: https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-reference (incoming webhooks)
 */
export function checkTeamsMessage(body: unknown): string[] {
  const message = z
    .object({ type: z.literal('message'), attachments: z.array(z.object({ contentType: z.literal('application/vnd.microsoft.card.adaptive'), content: z.record(z.string(), z.unknown()) })).min(1) })
    .safeParse(body);
  if (!message.success) {
    return message.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  }
  return message.data.attachments.flatMap((a, n) => checkAdaptiveCard(a.content).map((e) => `attachments[${n}].content${e}`));
}

/** Schema errors of one card (JSON pointer and message), plus the version and action rules Teams adds. */
export function checkAdaptiveCard(card: unknown): string[] {
  const validate = adaptiveCardSchema();
  const errors = validate(card) ? [] : (validate.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'allOf').slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params['additionalProperty'])})` : ''}`);
  const version = typeof card === 'object' && card !== null ? (card as { version?: unknown }).version : undefined;
  if (typeof version !== 'string' || !/^1\.[0-4]$/.test(version)) {
    errors.push(`/version must be 1.0 to 1.4 (Workflows renders no later version), not ${JSON.stringify(version)}`);
  }
  if (JSON.stringify(card).includes('"Action.Submit"')) {
    errors.push('Action.Submit is not supported in cards posted through a webhook');
  }
  return errors;
}

/** `GET /_sim/teams` lists the posts (accepted and refused); `PATCH` sets failures or a hang; `DELETE` clears. */
export function handleTeamsAdmin(channel: TeamsChannel, req: SimRequest): SimResponse {
  switch (req.method.toUpperCase()) {
    case 'GET':
      return json(200, { value: channel.posts });
    case 'PATCH': {
      const parsed = teamsBehaviourSchema.safeParse(req.body);
      if (!parsed.success) {
        return json(400, { error: 'invalid body', issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
      }
      channel.behave(parsed.data);
      return { status: 204 };
    }
    case 'DELETE':
      channel.clear();
      return { status: 204 };
    default:
      return json(405, { error: 'GET, PATCH or DELETE' });
  }
}
