import type { CaseStatus, TargetStatus } from '../store/case-model';
import { html, type SafeHtml } from './html';

type Tone = 'good' | 'wait' | 'bad' | 'run' | 'plain';

/** Plain words and a colour for every case status (the compiler lists a new status here). */
export const CASE_STATUS: Record<CaseStatus, { label: string; tone: Tone }> = {
  received: { label: 'Received', tone: 'run' },
  running: { label: 'Running', tone: 'run' },
  done: { label: 'Done', tone: 'good' },
  held: { label: 'Held for approval', tone: 'wait' },
  waiting: { label: 'Waiting for another case', tone: 'wait' },
  paused: { label: 'Paused (emergency stop)', tone: 'wait' },
  partial: { label: 'Partly failed', tone: 'bad' },
  failed: { label: 'Failed', tone: 'bad' },
  suspicious: { label: 'Suspicious: nothing contained', tone: 'bad' },
  ignored: { label: 'Nothing to do', tone: 'plain' },
};

export const TARGET_STATUS: Record<TargetStatus, { label: string; tone: Tone }> = {
  pending: { label: 'Pending', tone: 'run' },
  'not-found': { label: 'Not found', tone: 'plain' },
  skipped: { label: 'Skipped by a guardrail', tone: 'plain' },
  held: { label: 'Held for approval', tone: 'wait' },
  'would-hold': { label: 'Would wait for approval (report-only)', tone: 'plain' },
  waiting: { label: 'Waiting for another case', tone: 'wait' },
  rejected: { label: 'Approval rejected', tone: 'plain' },
  expired: { label: 'Approval expired', tone: 'plain' },
  contained: { label: 'Contained', tone: 'good' },
  'would-contain': { label: 'Would contain (report-only)', tone: 'plain' },
  released: { label: 'Released', tone: 'plain' },
  deleted: { label: 'Deleted (restorable 30 days)', tone: 'plain' },
  joined: { label: 'Contained by another case', tone: 'plain' },
  failed: { label: 'Failed', tone: 'bad' },
  unverified: { label: 'Not verified in Sentinel', tone: 'bad' },
};

/** A status as a coloured badge; the words carry the meaning, the colour only repeats it. */
export function badge(entry: { label: string; tone: Tone }, id?: string): SafeHtml {
  const cls = entry.tone === 'plain' ? 'badge' : `badge badge-${entry.tone}`;
  return id === undefined ? html`<span class="${cls}">${entry.label}</span>` : html`<span id="${id}" class="${cls}">${entry.label}</span>`;
}
