import { AppError } from '../errors';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Who an approval records as asking for a held action: the case's requester when it is a named principal (the
 * verified caller or signed-in person, by object id), else the responder itself, whose guardrail or timer held
 * the action. Either way a real object id, so the requester-cannot-approve rule has something to compare.
 *
 * @throws AppError 503 when neither is known (the responder's own id cannot be read yet): retried later.
 */
export async function requesterOf(deps: { responderId: () => Promise<string | undefined> }, caseRequestedBy: string | undefined): Promise<string> {
  if (caseRequestedBy !== undefined && GUID.test(caseRequestedBy)) {
    return caseRequestedBy.toLowerCase();
  }
  const responder = await deps.responderId().catch(() => undefined);
  if (responder === undefined) {
    throw new AppError('RequesterUnknown', 503, 'The responder could not read its own object id, so it cannot ask for an approval yet.');
  }
  return responder;
}
