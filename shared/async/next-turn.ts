/**
 * Resolves on the next turn of the event loop (`setImmediate`), after the I/O and microtasks already queued. Work
 * that is off the critical path (a storage write that records what a call is about to do) starts after it, so the
 * call it accompanies leaves first instead of waiting while an SDK builds and signs a request.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
