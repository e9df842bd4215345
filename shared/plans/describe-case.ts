import { KIND_LABEL } from '../graph/identity-kind';
import type { CaseBundle, StepRecord, TargetRecord } from '../store/case-model';

const STATE_WORDS: Record<StepRecord['state'], string> = {
  pending: 'pending',
  running: 'running',
  done: 'done',
  skipped: 'skipped',
  held: 'HELD for approval',
  failed: 'FAILED',
  'would-do': 'would do (report-only)',
};

/** Lines shown of a long list: a case may name a thousand identities, a ticket stays readable. */
const MAX_LINES = 200;

function capped(lines: string[]): string[] {
  return lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `- … and ${lines.length - MAX_LINES} more (see the case)`] : lines;
}

function targetLine(t: TargetRecord): string {
  const who = `${t.displayName ?? t.key} (${KIND_LABEL[t.kind ?? 'other']}${t.objectId ? `, ${t.objectId}` : ''})`;
  return `- ${who}: ${t.status}${t.reason ? ` — ${t.reason}` : ''}`;
}

/**
 * The plain-text account of a case for tickets and incident comments: what was done to whom, what failed
 * and why, what waits for a human and where to approve it.
 */
export function describeCase(bundle: CaseBundle, opts: { statusUrl?: string; links?: Map<string, string> } = {}): { title: string; text: string } {
  const r = bundle.record;
  const held = bundle.targets.filter((t) => t.status === 'held');
  const wouldHold = bundle.targets.filter((t) => t.status === 'would-hold');
  const failed = bundle.steps.filter((s) => s.state === 'failed');
  const lines = [
    `Agent responders case ${r.caseId} (${r.mode === 'report-only' ? 'REPORT-ONLY: nothing was changed' : 'enforce'})`,
    `Trigger: ${r.source}${r.incidentArmId ? ` — incident ${r.incidentArmId}` : ''}${r.alertId ? ` — alert ${r.alertId}` : ''}`,
    `Reason: ${r.title}`,
    '',
    'Targets:',
    ...capped(bundle.targets.map(targetLine)),
    '',
    'Steps:',
    ...capped(
      bundle.steps
        .filter((s) => s.targetKey !== 'case')
        .map((s) => `- ${s.description}: ${STATE_WORDS[s.state]}${s.errorCode ? ` (${s.errorCode}${s.errorMessage ? `: ${s.errorMessage}` : ''})` : ''}`),
    ),
  ];
  if (r.rejected.length > 0) {
    const more = (r.rejectedCount ?? r.rejected.length) - r.rejected.length;
    lines.push('', 'Entities not acted on:', ...r.rejected.map((e) => `- ${e.kind}${e.name ? ` ${e.name}` : ''}: ${e.reason}`), ...(more > 0 ? [`- … and ${more} more (all in the case's rejected-entity list)`] : []));
  }
  if (wouldHold.length > 0) {
    lines.push('', 'Would wait for approval in enforce mode (report-only: no approval was requested):', ...capped(wouldHold.map((t) => `- ${t.displayName ?? t.key}`)));
  }
  if (held.length > 0) {
    lines.push('', 'Waiting for approval:');
    for (const t of held) {
      const link = t.approvalId ? opts.links?.get(t.approvalId) : undefined;
      lines.push(`- ${t.displayName ?? t.key}: ${link ?? 'approvals are not configured (PUBLIC_BASE_URL / APPROVAL_SIGNING_KEY); act manually'}`);
    }
  }
  if (failed.length > 0) {
    lines.push('', `Manual action needed: ${failed.length} step(s) failed; see the errors above.`);
  }
  if (r.note) {
    lines.push('', r.note);
  }
  if (opts.statusUrl) {
    lines.push('', `Case: ${opts.statusUrl}`);
  }
  const names = bundle.targets.map((t) => t.displayName ?? t.key).slice(0, 3).join(', ');
  const verb = headline(bundle.targets, r.mode);
  return { title: `[Agent responders] ${verb}: ${names}${bundle.targets.length > 3 ? ' …' : ''}`, text: lines.join('\n') };
}

/** What happened, in the ticket title: never "contained" for a case that contained nobody. */
function headline(targets: readonly TargetRecord[], mode: CaseBundle['record']['mode']): string {
  const has = (status: TargetRecord['status']) => targets.some((t) => t.status === status);
  if (has('held')) {
    return 'held for approval';
  }
  if (mode === 'report-only') {
    return 'would contain';
  }
  if (has('released')) {
    return 'released';
  }
  if (has('deleted')) {
    return 'deleted';
  }
  if (has('failed')) {
    return has('contained') ? 'partly contained, manual action needed' : 'containment FAILED, manual action needed';
  }
  if (has('contained')) {
    return 'contained';
  }
  if (has('waiting')) {
    return 'waiting for another case';
  }
  if (has('unverified')) {
    return 'refused: not backed by Sentinel';
  }
  return 'not acted on';
}
