import { describe, expect, it } from 'vitest';
import type { PlanChanges } from './plan-changes.js';
import { createPlans } from './plans.js';
import type { Promotions } from './promotions.js';
import type { Trials } from './trials.js';

const USER = '00000000-0000-4000-8000-000000000001';
const row = (id: string, metadata: Record<string, string>) => ({ id, raw: { metadata } });

/** The offer logic on fakes: a user who has had a trial, and one known promotion code. */
function plansWith({ hadTrial }: { hadTrial: boolean }) {
  const trials = {
    offer: async (_user: string, days: number | null) =>
      !days ? { days: null, note: null } : hadTrial ? { days: null, note: 'had one' } : { days, note: null },
  } as unknown as Trials;
  const promotions = {
    resolve: async (code: string) => {
      if (code !== 'WELCOME20') throw new Error('promotion_code_not_found');
      return { id: 'promo_1', code };
    },
  } as unknown as Promotions;
  return createPlans({
    trials,
    promotions,
    planChanges: {} as PlanChanges,
    subscriptions: {} as never,
    catalog: {} as never,
  });
}

const TRIAL_PRICE = { ...row('price_y', { trial_period_days: '14' }), product: row('prod_p', {}) };
const ADDON_PRICE = {
  ...row('price_a', { trial_period_days: '14' }),
  product: row('prod_a', { tollgate_addon: 'true' }),
};

describe('the checkout offer', () => {
  it("gives the price's trial and lets Stripe's page take a code when none is given", async () => {
    const offer = await plansWith({ hadTrial: false }).checkoutOffer(USER, TRIAL_PRICE);
    expect(offer).toEqual({
      addon: false,
      trialDays: 14,
      trialNote: null,
      params: { allow_promotion_codes: true },
      key: 'trial:14|promo:any',
    });
  });

  it('applies a given code instead, and a second trial is none, with the reason', async () => {
    const offer = await plansWith({ hadTrial: true }).checkoutOffer(USER, TRIAL_PRICE, 'WELCOME20');
    expect(offer).toMatchObject({
      trialDays: null,
      trialNote: 'had one',
      params: { discounts: [{ promotion_code: 'promo_1' }] },
      key: 'trial:0|promo:promo_1',
    });
  });

  it('an add-on never has a trial; an unknown code fails before any session', async () => {
    const plans = plansWith({ hadTrial: false });
    expect(await plans.checkoutOffer(USER, ADDON_PRICE)).toMatchObject({ addon: true, trialDays: null });
    await expect(plans.checkoutOffer(USER, TRIAL_PRICE, 'NOPE')).rejects.toThrow('promotion_code_not_found');
  });
});
