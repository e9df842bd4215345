import { createHash } from 'node:crypto';
import type { EntraClaims } from './verify-entra-token';

/** How long a verified token is taken on trust without checking its signature again (it still expires on time). */
export const VERIFIED_TTL_MS = 5 * 60_000;
/** Distinct tokens remembered (a playbook's managed identity posts with one token for an hour). */
const MAX_ENTRIES = 1_000;

/**
 * Tokens whose signature and claims were verified, so a playbook that posts a storm of alerts with one token pays
 * the RS256 verification once instead of per post. Keyed by a SHA-256 of the token and of what it was verified
 * against (issuer, tenant, audiences): a token verified for one audience never passes for another. Only a verified
 * token is remembered, for at most {@link VERIFIED_TTL_MS}; its expiry and not-before are checked again on every use.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { claims: EntraClaims; until: number }>();

  constructor(private readonly clockToleranceS: number) {}

  static keyOf(token: string, context: readonly string[]): string {
    return createHash('sha256').update(token).update('\n').update(context.join('\n')).digest('base64url');
  }

  /** The claims of a token verified earlier in the same context, if it is still within its lifetime. */
  get(key: string, now: number): EntraClaims | undefined {
    const hit = this.entries.get(key);
    if (!hit) {
      return undefined;
    }
    const tolerance = this.clockToleranceS * 1000;
    const expired = typeof hit.claims.exp !== 'number' || hit.claims.exp * 1000 <= now - tolerance;
    const notYet = (hit.claims.nbf ?? 0) * 1000 > now + tolerance;
    if (now >= hit.until || expired || notYet) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.claims;
  }

  remember(key: string, claims: EntraClaims, now: number): void {
    // The oldest goes first (a Map iterates in insertion order).
    for (const oldest of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES) {
        break;
      }
      this.entries.delete(oldest);
    }
    this.entries.set(key, { claims, until: now + VERIFIED_TTL_MS });
  }
}
