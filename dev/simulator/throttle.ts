/**
 * Graph's two throttles the responder must survive (reference/graph/api-facts.md, concepts/throttling-limits):
 * Identity Protection allows about 1 request/s per tenant for all apps and sends no Retry-After; directory
 * writes are limited to 3,000 per 150 s per app and tenant, answered with Retry-After.
 */
export class IdentityProtectionBucket {
  private nextAllowedAt = 0;

  /** True when the call may proceed; consumes the single token. */
  take(now = Date.now()): boolean {
    if (now < this.nextAllowedAt) {
      return false;
    }
    this.nextAllowedAt = now + 1000;
    return true;
  }

  reset(): void {
    this.nextAllowedAt = 0;
  }
}

export class DirectoryWriteWindow {
  /** Ring buffer of the last `limit` write times. */
  private readonly times: number[];
  private head = 0;
  private count = 0;

  constructor(
    readonly limit = 3000,
    readonly windowMs = 150_000,
  ) {
    this.times = new Array<number>(limit).fill(0);
  }

  /** Undefined when the write may proceed (and is counted), else the seconds to wait. */
  take(now = Date.now()): number | undefined {
    if (this.count === this.limit) {
      const oldest = this.times[this.head] as number;
      if (now - oldest < this.windowMs) {
        return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
      }
    }
    this.times[this.head] = now;
    this.head = (this.head + 1) % this.limit;
    this.count = Math.min(this.count + 1, this.limit);
    return undefined;
  }

  reset(): void {
    this.head = 0;
    this.count = 0;
  }
}
