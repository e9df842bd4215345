import type { ApprovalEntity } from '../approvals/approval-entity';
import type { Sentinel } from '../sentinel/sentinel-client';
import type { CaseStore } from '../store/case-store';
import type { RecordTable } from '../store/record-table';
import type { TicketProvider } from '../tickets/ticket-provider';
import type { CaseViewerDeps } from './case-viewer-access';

/** What the case pages read. */
export interface ConsoleDeps extends CaseViewerDeps {
  cases: CaseStore;
  approvals: RecordTable<ApprovalEntity>;
  responderId: () => Promise<string | undefined>;
}

/** What the release form needs besides: `requestRelease` notes the request on the ticket and the incident. */
export interface ConsoleReleaseDeps extends ConsoleDeps {
  tickets: TicketProvider;
  sentinel: Sentinel;
}
