/** Every problem this service answers with has its page at /problems/<code>, with the same status and title. */
import { PROBLEM_CATALOGUE, ProblemError, problemDoc } from '@tollgate/service-kit';
import { describe, expect, it } from 'vitest';
import { Problems } from './errors.js';

describe('the error catalogue', () => {
  const problems = Object.values(Problems).map((make) => (make as (arg: never) => ProblemError)(1 as never));

  it.each(problems.map((p) => [p.code, p] as const))(
    '%s is documented for /problems/{code}',
    (code, problem) => {
      expect(problem).toBeInstanceOf(ProblemError);
      const doc = problemDoc(code);
      expect(
        doc,
        `add ${code} to PROBLEM_CATALOGUE (packages/service-kit/src/problem-catalogue.ts)`,
      ).toBeDefined();
      expect({ status: doc?.status, title: doc?.title }).toEqual({
        status: problem.status,
        title: problem.title,
      });
      expect(doc?.help.length).toBeGreaterThan(20);
    },
  );

  it('codes are unique and snake_case', () => {
    const codes = PROBLEM_CATALOGUE.map((d) => d.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });
});
