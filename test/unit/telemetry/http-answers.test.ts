import { HttpRequest, InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { httpHandler } from '../../../shared/http/http-handler';
import { AppError, ValidationError } from '../../../shared/errors';

/** A real InvocationContext whose log lines are captured. */
function contextWithLines(functionName: string): { context: InvocationContext; lines: { level: string; text: string }[] } {
  const lines: { level: string; text: string }[] = [];
  const context = new InvocationContext({
    functionName,
    invocationId: 'inv-1',
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(' ') }),
  });
  return { context, lines };
}

const events = (lines: { text: string }[]) => lines.flatMap((l) => (l.text.startsWith('{') ? [JSON.parse(l.text) as Record<string, unknown>] : []));

describe('httpHandler logs every refusal with its status and problem type', () => {
  for (const entry of [
    [400, 'validation-failed', new ValidationError('The direct request is invalid.', [{ field: 'targets', message: 'required' }])],
    [403, 'caller-not-allowed', new AppError('CallerNotAllowed', 403, 'The caller is not allowed.')],
    [404, 'not-found', new AppError('NotFound', 404, 'No case.')],
    [409, 'conflict', new AppError('Conflict', 409, 'Already decided.')],
    [413, 'payload-too-large', new AppError('PayloadTooLarge', 413, 'Too large.')],
    [415, 'unsupported-media-type', new AppError('UnsupportedMediaType', 415, 'Form posts only.')],
    [422, 'no-usable-target', new AppError('NoUsableTarget', 422, 'Nothing to act on.')],
  ] as const) {
    const [status, type, error] = [entry[0], entry[1], entry[2]];
    it(`logs a thrown ${status} as http.refused with its problem type`, async () => {
      const { context, lines } = contextWithLines('approvals-post');
      const handler = httpHandler(() => Promise.reject(error));
      const request = new HttpRequest({ method: 'POST', url: 'http://127.0.0.1:7071/api/approvals/0123456789abcdef01234567?token=s3cr3t-link-token', params: { approvalId: '0123456789abcdef01234567' } });
      const response = await handler(request, context);
      expect(response.status).toBe(status);
      const refused = events(lines).filter((e) => e['event'] === 'http.refused');
      expect(refused).toEqual([
        expect.objectContaining({ status, function: 'approvals-post', approvalId: '0123456789abcdef01234567', path: '/api/approvals/0123456789abcdef01234567', problemType: `https://agent-responders.dev/problems/${type}` }),
      ]);
      expect(lines.find((l) => l.text.includes('http.refused'))?.level).toBe('warning');
      expect(lines.map((l) => l.text).join('\n')).not.toContain('s3cr3t-link-token');
    });
  }

  it('logs a refusal the handler returns itself (an HTML page) with its status and the case id', async () => {
    const { context, lines } = contextWithLines('console-case-get');
    const handler = httpHandler(() => Promise.resolve({ status: 403, body: '<p>You cannot view cases</p>' }));
    const caseId = '11111111-2222-4333-8444-555555555555';
    await handler(new HttpRequest({ method: 'GET', url: `http://127.0.0.1/api/console/cases/${caseId}`, params: { caseId } }), context);
    expect(events(lines)).toEqual([expect.objectContaining({ event: 'http.refused', status: 403, caseId, function: 'console-case-get' })]);
  });

  it('logs nothing for a success', async () => {
    const { context, lines } = contextWithLines('health');
    await httpHandler(() => Promise.resolve({ status: 202, jsonBody: {} }))(new HttpRequest({ method: 'GET', url: 'http://127.0.0.1/api/health' }), context);
    expect(events(lines)).toEqual([]);
  });

  it('logs an unexpected error as http.failed with status 500 beside the error itself', async () => {
    const { context, lines } = contextWithLines('alerts-post');
    await httpHandler(() => Promise.reject(new Error('boom')))(new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/alerts' }), context);
    expect(events(lines)).toEqual([expect.objectContaining({ event: 'http.failed', status: 500, problemType: 'https://agent-responders.dev/problems/internal-error' })]);
  });
});
