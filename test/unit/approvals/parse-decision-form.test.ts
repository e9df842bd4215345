import { describe, expect, it } from 'vitest';
import { parseDecisionForm } from '../../../shared/approvals/parse-decision-form';
import { ValidationError } from '../../../shared/errors';

function fieldsOf(body: string): string[] {
  try {
    parseDecisionForm(body);
  } catch (err) {
    if (err instanceof ValidationError) {
      return err.fields.map((f) => f.field);
    }
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('parseDecisionForm', () => {
  it('parses a browser form post', () => {
    const body = new URLSearchParams({ token: 'abc.def', af: '123.xyz', decision: 'approve', comment: 'ok by me' }).toString();
    expect(parseDecisionForm(body)).toEqual({ token: 'abc.def', af: '123.xyz', decision: 'approve', comment: 'ok by me' });
  });

  it('drops an empty comment and decodes + as space', () => {
    expect(parseDecisionForm('token=a.b&af=1.c&decision=approve&comment=')).toEqual({ token: 'a.b', af: '1.c', decision: 'approve' });
    expect(parseDecisionForm('token=a.b&af=1.c&decision=reject&comment=not+yet').comment).toBe('not yet');
  });

  it('refuses a rejection without a reason, however it is left out', () => {
    for (const body of ['token=a.b&af=1.c&decision=reject', 'token=a.b&af=1.c&decision=reject&comment=', 'token=a.b&af=1.c&decision=reject&comment=+%0D%0A+']) {
      expect(fieldsOf(body)).toEqual(['comment']);
    }
  });

  it('ignores unknown fields', () => {
    expect(parseDecisionForm('token=a.b&af=1.c&decision=approve&submit=1').decision).toBe('approve');
  });

  it('names every missing or bad field', () => {
    expect(fieldsOf('')).toEqual(expect.arrayContaining(['token', 'af', 'decision']));
    expect(fieldsOf('token=a.b&af=1.c&decision=maybe')).toEqual(['decision']);
    expect(fieldsOf('token=&af=1.c&decision=approve')).toEqual(['token']);
  });

  it('refuses a comment over 1000 characters', () => {
    expect(parseDecisionForm(`token=a.b&af=1.c&decision=approve&comment=${'x'.repeat(1000)}`).comment).toHaveLength(1000);
    expect(fieldsOf(`token=a.b&af=1.c&decision=approve&comment=${'x'.repeat(1001)}`)).toEqual(['comment']);
  });

  it('refuses a field given twice', () => {
    expect(fieldsOf('token=a.b&af=1.c&decision=approve&decision=reject')).toEqual(['decision']);
  });

  it('throws a 400 ValidationError, never anything else, on garbage', () => {
    for (const body of ['%', '%%%&&&==', '\u0000', 'decision=%E0%A4%A']) {
      expect(() => parseDecisionForm(body)).toThrow(ValidationError);
    }
  });
});
