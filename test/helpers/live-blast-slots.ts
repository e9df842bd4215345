import type { Deps } from '../../shared/deps';

/** The values (`case|target|round`) holding a live blast-radius slot at `now`, as stored. */
export async function liveBlastSlots(deps: Pick<Deps, 'keys'>, now: number): Promise<string[]> {
  const rows = await deps.keys.readSlots('blast-slot');
  return rows.filter((r) => r.rowKey.startsWith('slot-') && (r.value.until ?? 0) > now).map((r) => r.value.value);
}
