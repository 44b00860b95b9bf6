/** The figures the admin dashboard shows: computed in SQL from the local mirror. */
import type { PrismaClient } from '../generated/prisma/client.js';

export interface DashboardStats {
  activeSubscriptions: number;
  /** Monthly recurring revenue per currency, in the currency's smallest unit. */
  mrr: { currency: string; amount: number }[];
  /** The last 30 days, oldest first. */
  daily: { date: string; new: number; churned: number }[];
}

const LIVE = ['active', 'trialing', 'past_due'];

export async function dashboardStats(db: PrismaClient, now = new Date()): Promise<DashboardStats> {
  const [active, mrr, daily] = await Promise.all([
    db.subscription.count({ where: { status: { in: LIVE } } }),
    db.$queryRaw<{ currency: string; amount: number }[]>`
      SELECT p.currency,
             round(sum(
               p.unit_amount::numeric / coalesce(nullif(p.interval_count, 0), 1) *
               CASE p.interval WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12 WHEN 'day' THEN 365.0 / 12 ELSE 1 END
             ))::int AS amount
        FROM subscriptions s JOIN prices p ON p.id = s.price_id
       WHERE s.status = ANY(${LIVE}) AND p.interval IS NOT NULL AND p.unit_amount IS NOT NULL
       GROUP BY p.currency ORDER BY p.currency`,
    db.$queryRaw<{ date: string; new: number; churned: number }[]>`
      WITH days AS (
        SELECT generate_series((${now}::timestamptz - interval '29 days')::date, ${now}::timestamptz::date, interval '1 day')::date AS day
      )
      SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
             (SELECT count(*) FROM subscriptions s WHERE s.stripe_created_at::date = d.day)::int AS new,
             (SELECT count(*) FROM subscriptions s WHERE s.ended_at::date = d.day)::int AS churned
        FROM days d ORDER BY d.day`,
  ]);
  return { activeSubscriptions: active, mrr, daily };
}
