/** `items` on update: price and quantity changes, added and deleted items, with prorations. */
import type Stripe from 'stripe';
import type { Emulator } from '../core/emulator.js';
import { invalidRequest, missingParam } from '../core/errors.js';
import { Params } from '../core/params.js';
import type { InvoiceLineInput } from '../invoices/objects.js';
import { requirePrice } from '../products-prices/catalogue.js';
import { buildSubscriptionItem } from './objects.js';
import { periodOf, productName, recurringOf } from './periods.js';

export function applyItemChanges(
  em: Emulator,
  sub: Stripe.Subscription,
  itemParams: unknown[],
  at: number,
): { prorations: InvoiceLineInput[]; resetCycle: boolean } {
  const { start, end } = periodOf(sub);
  const remaining = end > start ? Math.min(Math.max((end - at) / (end - start), 0), 1) : 0;
  const prorations: InvoiceLineInput[] = [];
  let resetCycle = false;
  const current = sub.items.data[0];
  const when = new Date(at * 1000).toISOString().slice(0, 10);
  itemParams.forEach((raw, i) => {
    const ip = new Params(
      raw,
      ['id', 'price', 'quantity', 'deleted', 'metadata', 'clear_usage'],
      `items[${i}]`,
    );
    const itemId = ip.string('id');
    const existing = itemId ? sub.items.data.find((x) => x.id === itemId) : undefined;
    if (itemId && !existing) {
      throw invalidRequest(`Invalid subscription_item id: ${itemId}`, `items[${i}][id]`, 'resource_missing');
    }
    if (existing && ip.boolean('deleted')) {
      prorations.push(
        prorationLine(em, sub, existing, existing.price, existing.quantity ?? 1, -remaining, at, end, when),
      );
      sub.items.data = sub.items.data.filter((x) => x !== existing);
      return;
    }
    const priceId = ip.string('price');
    const price = priceId ? requirePrice(em, priceId, `items[${i}][price]`) : existing?.price;
    if (!price) throw missingParam(`items[${i}][price]`);
    const quantity = ip.integer('quantity') ?? existing?.quantity ?? 1;
    const r = recurringOf(price, `items[${i}][price]`);
    const ref = current?.price.recurring;
    if (ref && (ref.interval !== r.interval || ref.interval_count !== r.count)) resetCycle = true;
    if (existing) {
      const changed = existing.price.id !== price.id || (existing.quantity ?? 1) !== quantity;
      if (changed) {
        prorations.push(
          prorationLine(em, sub, existing, existing.price, existing.quantity ?? 1, -remaining, at, end, when),
        );
        existing.price = price;
        existing.plan = planFor(price);
        existing.quantity = quantity;
        prorations.push(prorationLine(em, sub, existing, price, quantity, remaining, at, end, when));
      }
      const md = ip.metadata(existing.metadata);
      if (md) existing.metadata = md;
    } else {
      const item = buildSubscriptionItem({
        created: at,
        price,
        quantity,
        subscription: sub.id,
        periodStart: start,
        periodEnd: end,
        metadata: ip.metadata() ?? {},
      });
      sub.items.data.push(item);
      prorations.push(prorationLine(em, sub, item, price, quantity, remaining, at, end, when));
    }
  });
  if (sub.items.data.length === 0)
    throw invalidRequest('A subscription must have at least one active item.', 'items');
  return { prorations, resetCycle };
}

export function planFor(price: Stripe.Price): Stripe.Plan {
  return buildSubscriptionItem({
    created: 0,
    price,
    quantity: 1,
    subscription: '',
    periodStart: 0,
    periodEnd: 0,
    metadata: {},
  }).plan;
}

export function prorationLine(
  em: Emulator,
  sub: Stripe.Subscription,
  item: Stripe.SubscriptionItem,
  price: Stripe.Price,
  quantity: number,
  share: number,
  at: number,
  end: number,
  when: string,
): InvoiceLineInput {
  const amount = Math.round((price.unit_amount ?? 0) * quantity * share);
  const what = `${quantity} × ${productName(em, price)}`;
  return {
    amount,
    description:
      share < 0 ? `Unused time on ${what} after ${when}` : `Remaining time on ${what} after ${when}`,
    price,
    quantity,
    periodStart: at,
    periodEnd: end,
    subscription: sub.id,
    subscriptionItem: item.id,
    proration: true,
    invoiceItem: null,
  };
}
