/**
 * All emulated state, in memory. Maps keep insertion (creation) order, which
 * is the order Stripe lists objects in, reversed. Everything here is plain
 * JSON so the whole state can be written to a file and read back.
 */
import type Stripe from 'stripe';
import { resourceMissing } from './errors.js';

/** Card behaviour that Stripe decides from the test card number; kept beside the payment method. */
export type CardBehaviour = 'succeeds' | 'charge_fails' | 'declined' | 'insufficient_funds';

export interface PaymentMethodRecord {
  id: string;
  pm: Stripe.PaymentMethod;
  behaviour: CardBehaviour;
  /** The magic id it was made from (`pm_card_visa`), so a later mention of that id in the same customer's context finds it. */
  magic?: string;
}

export interface WebhookEndpointRecord {
  id: string;
  endpoint: Stripe.WebhookEndpoint;
  secret: string;
}

export interface CheckoutRecord {
  id: string;
  session: Stripe.Checkout.Session;
  lineItems: Stripe.LineItem[];
  /** What the hosted page showed last (a decline message), for the page only. */
  lastError: string | null;
  /** `subscription_data[metadata]`, given to the subscription the session creates. */
  subscriptionMetadata: Stripe.Metadata;
  /** `payment_intent_data` (payment mode). Absent in state files written before it existed. */
  paymentIntentData?: PaymentIntentData;
  /** The PaymentIntent of the session's first payment attempt; later attempts confirm it again. */
  paymentIntent?: string;
  /** `subscription_data[trial_period_days]`: the subscription starts trialing and nothing is charged. */
  trialDays?: number;
  /** Coupons / promotion codes to redeem when the session completes (`discounts`, or a code typed on the page). */
  discountRefs?: DiscountRef[];
}

export interface DiscountRef {
  coupon: string;
  promotionCode: string | null;
}

export interface PaymentIntentData {
  description: string | null;
  metadata: Stripe.Metadata;
  receiptEmail: string | null;
  setupFutureUsage: Stripe.PaymentIntent.SetupFutureUsage | null;
  /** `payment_intent_data[shipping]`, copied onto the PaymentIntent. */
  shipping?: Stripe.PaymentIntent.Shipping | null;
}

export interface DeliveryAttempt {
  at: string;
  status: number | null;
  error: string | null;
  duration_ms: number;
  injected_failure: boolean;
}

export interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  url: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: DeliveryAttempt[];
  next_attempt_at: string | null;
  duplicate: boolean;
}

export interface IdempotencyRecord {
  method: string;
  path: string;
  paramsKey: string;
  statusCode: number;
  body: string;
  createdAt: number;
}

export class Collection<T extends { id: string }> {
  readonly items = new Map<string, T>();
  /** Lists are read far more often than objects are created: keep the newest-first order. */
  private ordered: T[] | null = null;
  constructor(readonly kind: string) {}

  get(id: string): T | undefined {
    return this.items.get(id);
  }

  require(id: string, param = 'id'): T {
    const v = this.items.get(id);
    if (!v) throw resourceMissing(this.kind, id, param);
    return v;
  }

  put(value: T): T {
    const previous = this.items.get(value.id);
    this.items.set(value.id, value);
    if (previous !== value) this.ordered = null;
    return value;
  }

  delete(id: string): boolean {
    this.ordered = null;
    return this.items.delete(id);
  }

  /** Newest first, as Stripe lists. A shared array: callers must not modify it. */
  newestFirst(): readonly T[] {
    this.ordered ??= [...this.items.values()].reverse();
    return this.ordered;
  }

  clear(): void {
    this.ordered = null;
    this.items.clear();
  }
}

export class Store {
  /** Seconds added to the wall clock by `advance-time`. */
  clockOffset = 0;
  readonly customers = new Collection<Stripe.Customer>('customer');
  readonly deletedCustomers = new Set<string>();
  /** `<subscription id>:<trial_end>` for which `trial_will_end` has been sent. */
  readonly trialNotices = new Set<string>();
  /** Customer -> the active entitlement ids the last summary event announced. */
  readonly entitlementSnapshots = new Map<string, string[]>();
  readonly products = new Collection<Stripe.Product>('product');
  readonly prices = new Collection<Stripe.Price>('price');
  readonly paymentMethods = new Collection<PaymentMethodRecord>('PaymentMethod');
  readonly subscriptions = new Collection<Stripe.Subscription>('subscription');
  readonly subscriptionSchedules = new Collection<Stripe.SubscriptionSchedule>('subscription_schedule');
  readonly invoices = new Collection<Stripe.Invoice>('invoice');
  readonly invoiceItems = new Collection<Stripe.InvoiceItem>('invoiceitem');
  readonly invoicePayments = new Collection<Stripe.InvoicePayment>('invoice_payment');
  readonly paymentIntents = new Collection<Stripe.PaymentIntent>('payment_intent');
  readonly charges = new Collection<Stripe.Charge>('charge');
  readonly refunds = new Collection<Stripe.Refund>('refund');
  readonly setupIntents = new Collection<Stripe.SetupIntent>('setup_intent');
  readonly coupons = new Collection<Stripe.Coupon>('coupon');
  readonly promotionCodes = new Collection<Stripe.PromotionCode>('promotion_code');
  readonly discounts = new Collection<Stripe.Discount>('discount');
  readonly features = new Collection<Stripe.Entitlements.Feature>('entitlements.feature');
  readonly productFeatures = new Collection<Stripe.ProductFeature>('product_feature');
  readonly checkoutSessions = new Collection<CheckoutRecord>('checkout.session');
  readonly portalSessions = new Collection<Stripe.BillingPortal.Session>('billing_portal.session');
  readonly events = new Collection<Stripe.Event>('event');
  readonly webhookEndpoints = new Collection<WebhookEndpointRecord>('webhook_endpoint');
  readonly testClocks = new Collection<Stripe.TestHelpers.TestClock>('test_clock');
  readonly deliveries = new Collection<Delivery>('delivery');
  readonly idempotency = new Map<string, IdempotencyRecord>();

  private collections(): Record<string, Collection<{ id: string }>> {
    return {
      customers: this.customers,
      products: this.products,
      prices: this.prices,
      paymentMethods: this.paymentMethods,
      subscriptions: this.subscriptions,
      subscriptionSchedules: this.subscriptionSchedules,
      invoices: this.invoices,
      invoiceItems: this.invoiceItems,
      invoicePayments: this.invoicePayments,
      paymentIntents: this.paymentIntents,
      charges: this.charges,
      refunds: this.refunds,
      setupIntents: this.setupIntents,
      coupons: this.coupons,
      promotionCodes: this.promotionCodes,
      discounts: this.discounts,
      features: this.features,
      productFeatures: this.productFeatures,
      checkoutSessions: this.checkoutSessions,
      portalSessions: this.portalSessions,
      events: this.events,
      webhookEndpoints: this.webhookEndpoints,
      testClocks: this.testClocks,
      deliveries: this.deliveries,
    };
  }

  clear(): void {
    this.clockOffset = 0;
    for (const c of Object.values(this.collections())) c.clear();
    this.deletedCustomers.clear();
    this.trialNotices.clear();
    this.entitlementSnapshots.clear();
    this.idempotency.clear();
  }

  /** Everything, including webhook deliveries and saved idempotent responses. */
  toJSON(): PersistedState {
    const collections: Record<string, unknown[]> = {};
    for (const [name, c] of Object.entries(this.collections())) collections[name] = [...c.items.values()];
    return {
      version: 1,
      clockOffset: this.clockOffset,
      deletedCustomers: [...this.deletedCustomers],
      trialNotices: [...this.trialNotices],
      entitlementSnapshots: [...this.entitlementSnapshots],
      collections,
      idempotency: [...this.idempotency],
    };
  }

  /** Reads a saved state; files written by older versions (without some collections) load too. */
  load(state: PersistedState): void {
    this.clear();
    this.clockOffset = state.clockOffset;
    for (const id of state.deletedCustomers) this.deletedCustomers.add(id);
    for (const key of state.trialNotices ?? []) this.trialNotices.add(key);
    for (const [customer, ids] of state.entitlementSnapshots ?? [])
      this.entitlementSnapshots.set(customer, ids);
    for (const [key, record] of state.idempotency ?? []) this.idempotency.set(key, record);
    const cols = this.collections();
    for (const [name, items] of Object.entries(state.collections)) {
      const c = cols[name];
      if (!c) continue;
      for (const item of items as { id: string }[]) c.put(item);
    }
  }
}

export interface PersistedState {
  version: 1;
  clockOffset: number;
  deletedCustomers: string[];
  /** Absent in files written before trials were emulated. */
  trialNotices?: string[];
  entitlementSnapshots?: [string, string[]][];
  collections: Record<string, unknown[]>;
  /** Idempotency-Key -> saved response (absent in files written before it was persisted). */
  idempotency?: [string, IdempotencyRecord][];
}
