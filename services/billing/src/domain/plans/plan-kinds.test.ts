import { describe, expect, it } from 'vitest';
import { changeDirection, isAddonProduct, monthlyAmount, trialDaysOf } from './plan-kinds.js';

const row = (metadata: Record<string, string>) => ({ raw: { metadata } });
const price = (unitAmount: number, interval: string, intervalCount = 1) => ({
  unitAmount,
  interval,
  intervalCount,
});

describe('plan kinds', () => {
  it('an add-on is a product with tollgate_addon=true, nothing else', () => {
    expect(isAddonProduct(row({ tollgate_addon: 'true' }))).toBe(true);
    expect(isAddonProduct(row({ tollgate_addon: 'yes' }))).toBe(false);
    expect(isAddonProduct(row({}))).toBe(false);
    expect(isAddonProduct({ raw: null })).toBe(false);
  });

  it("the price's trial_period_days wins over the product's; junk means no trial", () => {
    expect(trialDaysOf(row({ trial_period_days: '14' }), row({ trial_period_days: '7' }))).toBe(14);
    expect(trialDaysOf(row({}), row({ trial_period_days: '7' }))).toBe(7);
    expect(trialDaysOf(row({ trial_period_days: 'x' }), row({}))).toBeNull();
    expect(trialDaysOf(row({ trial_period_days: '0' }), row({}))).toBeNull();
    expect(trialDaysOf(row({ trial_period_days: '731' }), row({}))).toBeNull();
    expect(trialDaysOf(row({}), row({}))).toBeNull();
  });

  it('compares plans per month whatever their interval', () => {
    expect(monthlyAmount(price(12_000, 'year'))).toBe(1000);
    expect(monthlyAmount(price(3000, 'month', 3))).toBe(1000);
    expect(changeDirection(price(999, 'month'), price(499, 'month'))).toBe('downgrade');
    expect(changeDirection(price(499, 'month'), price(999, 'month'))).toBe('upgrade');
    // Premium yearly (99.90) is cheaper per month than Premium monthly (9.99).
    expect(changeDirection(price(999, 'month'), price(9990, 'year'))).toBe('downgrade');
    expect(changeDirection(price(4990, 'year'), price(999, 'month'))).toBe('upgrade');
    expect(changeDirection(price(1000, 'month'), price(12_000, 'year'))).toBe('upgrade');
  });
});
