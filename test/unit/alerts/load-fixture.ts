import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A fresh parse of a Sentinel fixture, so a test may change it freely. */
export function loadFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '../../fixtures/sentinel', name), 'utf8')) as Record<string, unknown>;
}

/** Runs `fn` and returns the error it throws; fails the test when nothing is thrown. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

export const INCIDENT_ARM_ID =
  '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/soc-ws/providers/Microsoft.SecurityInsights/incidents/8f1c2d3e-0000-4000-8000-000000000001';
export const SP_OBJECT_ID = 'aaaaaaaa-0000-4000-8000-000000000001';
export const AGENT_USER_OBJECT_ID = 'bbbbbbbb-0000-4000-8000-000000000002';
export const AGENT_APP_ID = 'cccccccc-0000-4000-8000-000000000003';
export const SYSTEM_ALERT_ID = 'dddddddd-0000-4000-8000-000000000004';
