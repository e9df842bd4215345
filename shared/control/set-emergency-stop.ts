import { z } from 'zod';
import { issuesToFields } from '../alerts/direct-request';
import { ValidationError } from '../errors';
import type { AuditLog } from '../store/audit-log';
import type { EmergencyStop, StopState } from './emergency-stop';

export const emergencyStopRequestSchema = z.strictObject({
  stopped: z.boolean(),
  reason: z.string().trim().min(1, 'must say why').max(500),
});
export type EmergencyStopRequest = z.infer<typeof emergencyStopRequestSchema>;

/**
 * The admin action behind `POST /api/control/emergency-stop`: stops (or resumes) every Graph, ARM and ticket write
 * of every worker within seconds, audited with who and why. The `EMERGENCY_STOP` setting, when on, wins: the
 * answer then says the stop stays on until the setting is changed.
 */
export async function setEmergencyStop(deps: { stop: EmergencyStop; audit: AuditLog }, body: unknown, actor: string): Promise<StopState> {
  const parsed = emergencyStopRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError('Invalid emergency stop request', issuesToFields(parsed.error.issues));
  }
  const { stopped, reason } = parsed.data;
  await deps.stop.set(stopped, reason, actor);
  await deps.audit.write({ action: stopped ? 'control.emergency-stop' : 'control.resume', scope: 'control', actor, result: 'ok', detail: reason });
  return deps.stop.state();
}
