/**
 * Holds the calls of a fake while `hold()` is on: each call awaits `passed()`, which resolves at once unless the
 * gate is held, and when `open()` releases every call held so far. For tests of coalescers, which merge what
 * arrives while a call is in flight.
 */
export function callGate(): { passed: () => Promise<void>; hold: () => void; open: () => void } {
  let release: () => void = () => undefined;
  let gate: Promise<void> | undefined;
  return {
    passed: async () => {
      if (gate) {
        await gate;
      }
    },
    hold: () => {
      gate = new Promise((r) => (release = r));
    },
    open: () => {
      gate = undefined;
      release();
    },
  };
}
