import type { StorageGate } from '../../dev/storage-proxy';

type GatedRequest = Parameters<StorageGate>[0];

/**
 * A storage-proxy gate that loses the answer of the first request `matches` picks (storage does it; the caller's
 * connection breaks before the answer, so the Storage SDK sends it again) and forwards every other request, except
 * those `drop` picks, which never reach storage. `lost()` says how many answers it lost (0 or 1).
 */
export function loseFirstAnswer(matches: (req: GatedRequest) => boolean, drop: (req: GatedRequest) => boolean = () => false): { gate: StorageGate; lost: () => number } {
  let lost = 0;
  const gate: StorageGate = (req) => {
    if (lost === 0 && matches(req)) {
      lost = 1;
      return Promise.resolve('lose-answer');
    }
    return Promise.resolve(drop(req) ? 'drop' : 'forward');
  };
  return { gate, lost: () => lost };
}
