/**
 * Keys of rows this instance has seen stored, at most `max` (the least recently seen are forgotten first). A hint
 * for choosing which request to send first, never for deciding anything: a row may be deleted behind it.
 */
export class KnownRows {
  readonly #keys = new Set<string>();

  constructor(private readonly max: number) {}

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    // Re-inserted so a Set's insertion order is the order last seen.
    this.#keys.delete(key);
    this.#keys.add(key);
    if (this.#keys.size > this.max) {
      const oldest = this.#keys.values().next();
      if (!oldest.done) {
        this.#keys.delete(oldest.value);
      }
    }
  }

  delete(key: string): void {
    this.#keys.delete(key);
  }
}
