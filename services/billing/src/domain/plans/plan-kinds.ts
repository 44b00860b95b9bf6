/**
 * What kind of thing a price sells, read from Stripe metadata (pure): a plan
 * or an add-on (product `tollgate_addon=true`), the trial it offers (price,
 * else product, `trial_period_days`), and whether moving between two plans is
 * an upgrade (takes effect now) or a downgrade (waits for the period end).
 */

interface WithRaw {
  raw: unknown;
}

function metadataOf(row: WithRaw | null | undefined): Record<string, string> {
  const metadata = (row?.raw as { metadata?: Record<string, string> } | null)?.metadata;
  return metadata && typeof metadata === 'object' ? metadata : {};
}

export function isAddonProduct(product: WithRaw | null | undefined): boolean {
  return metadataOf(product).tollgate_addon === 'true';
}

/** Stripe caps trials at two years. */
const MAX_TRIAL_DAYS = 730;

function days(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  const n = Number(value);
  return n >= 1 && n <= MAX_TRIAL_DAYS ? n : null;
}

/** The trial a checkout of this price offers: the price's `trial_period_days`, else the product's; null: none. */
export function trialDaysOf(price: WithRaw, product: WithRaw): number | null {
  return days(metadataOf(price).trial_period_days) ?? days(metadataOf(product).trial_period_days);
}

interface PriceAmount {
  unitAmount: number | null;
  interval: string | null;
  intervalCount: number | null;
}

const MONTHS_PER: Record<string, number> = { day: 12 / 365, week: 12 / 52, month: 1, year: 12 };

/** The price per month, to compare plans billed at different intervals. */
export function monthlyAmount(price: PriceAmount): number {
  const months = (MONTHS_PER[price.interval ?? 'month'] ?? 1) * (price.intervalCount ?? 1);
  return (price.unitAmount ?? 0) / months;
}

/**
 * A change to a dearer plan is an upgrade (now, prorated); to a cheaper one a
 * downgrade (at the period end, so the paid period is kept). Equal monthly
 * amounts (e.g. monthly to yearly at the same rate) count as an upgrade: the
 * user gets what they asked for at once and pays the difference.
 */
export function changeDirection(from: PriceAmount, to: PriceAmount): 'upgrade' | 'downgrade' {
  return monthlyAmount(to) < monthlyAmount(from) ? 'downgrade' : 'upgrade';
}
