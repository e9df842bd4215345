import { enqueueCase } from '../store/case-queue';
import type { Storage } from '../store/storage';
import type { ApprovalEntity } from './approval-entity';

/**
 * Hands a decided approval (granted, rejected or expired) to the responder: the case runs with the approval id
 * and applies it to its target under the case's lease (see plans/apply-approval.ts). The approval page and the
 * approvals timer never write the case themselves.
 */
export async function recordOutcomeOnCase(deps: { storage: Storage }, approval: Pick<ApprovalEntity, 'caseId' | 'id'>): Promise<void> {
  await enqueueCase(deps.storage, { caseId: approval.caseId, approvalId: approval.id });
}
