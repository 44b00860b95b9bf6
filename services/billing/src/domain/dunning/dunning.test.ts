import { describe, expect, it } from 'vitest';
import {
  canMove,
  DEFAULT_DUNNING_POLICY,
  type DunningPolicy,
  type DunningState,
  dunningStep,
  parseFeatureList,
} from './dunning.js';

const DAY = 86_400_000;
const since = new Date('2026-12-01T00:00:00Z');
const at = (days: number) => new Date(since.getTime() + days * DAY);
const withRestriction: DunningPolicy = {
  pastDueDays: 14,
  restrictAfterDays: 3,
  restricted: { features: { catalog_sd: true }, role: null },
};

describe('dunningStep', () => {
  it('active and trialing give everything and wait for Stripe', () => {
    for (const status of ['active', 'trialing'])
      expect(dunningStep({ status, pastDueSince: null }, DEFAULT_DUNNING_POLICY, since)).toEqual({
        state: 'active',
        access: 'full',
        nextState: null,
        nextStepAt: null,
      });
  });

  it('by default past_due keeps everything until the end of Stripe’s retry schedule, then revokes', () => {
    const input = { status: 'past_due', pastDueSince: since };
    expect(dunningStep(input, DEFAULT_DUNNING_POLICY, at(13.9))).toEqual({
      state: 'past_due',
      access: 'full',
      nextState: 'revoked',
      nextStepAt: at(14),
    });
    expect(dunningStep(input, DEFAULT_DUNNING_POLICY, at(14)).state).toBe('revoked');
    expect(dunningStep(input, DEFAULT_DUNNING_POLICY, at(14)).access).toBe('none');
  });

  it('walks past_due -> restricted -> revoked when a restricted step is configured', () => {
    const input = { status: 'past_due', pastDueSince: since };
    const steps = [0, 2.9, 3, 13.9, 14].map((d) => dunningStep(input, withRestriction, at(d)));
    expect(steps.map((s) => [s.state, s.access])).toEqual([
      ['past_due', 'full'],
      ['past_due', 'full'],
      ['restricted', 'restricted'],
      ['restricted', 'restricted'],
      ['revoked', 'none'],
    ]);
    expect(steps[0]).toMatchObject({ nextState: 'restricted', nextStepAt: at(3) });
    expect(steps[2]).toMatchObject({ nextState: 'revoked', nextStepAt: at(14) });
    for (let i = 1; i < steps.length; i++) expect(canMove(steps[i - 1]!.state, steps[i]!.state)).toBe(true);
  });

  it('a restricted step at or after the end is never reached', () => {
    const late = { ...withRestriction, restrictAfterDays: 20 };
    expect(dunningStep({ status: 'past_due', pastDueSince: since }, late, at(1)).nextState).toBe('revoked');
  });

  it('a past_due just seen counts from now', () => {
    expect(
      dunningStep({ status: 'past_due', pastDueSince: null }, DEFAULT_DUNNING_POLICY, since),
    ).toMatchObject({ state: 'past_due', nextStepAt: at(14) });
  });

  it('Stripe ending the subscription revokes at once; incomplete and paused never granted', () => {
    for (const status of ['unpaid', 'canceled', 'incomplete_expired'])
      expect(dunningStep({ status, pastDueSince: since }, withRestriction, at(1)).state).toBe('revoked');
    for (const status of ['incomplete', 'paused'])
      expect(dunningStep({ status, pastDueSince: null }, withRestriction, at(1))).toMatchObject({
        state: 'inactive',
        access: 'none',
      });
  });

  it('invoice.paid brings any dunning state back to active', () => {
    const states: DunningState[] = ['past_due', 'restricted', 'revoked'];
    for (const from of states) expect(canMove(from, 'active')).toBe(true);
    expect(canMove('active', 'restricted')).toBe(false);
  });
});

describe('parseFeatureList', () => {
  it('reads booleans and limits', () => {
    expect(parseFeatureList(' catalog_sd, projects=1 ,')).toEqual({ catalog_sd: true, projects: 1 });
    expect(parseFeatureList('')).toEqual({});
  });
  it('refuses a limit that is not a whole number', () => {
    expect(() => parseFeatureList('projects=ten')).toThrow(/whole number/);
  });
});
