/** Every emulated `/v1` operation, gathered from the resource folders. */
import { accountRoutes } from './account/routes.js';
import { portalRoutes } from './billing-portal/routes.js';
import { checkoutRoutes } from './checkout/routes.js';
import type { Operation } from './core/route.js';
import { customerRoutes } from './customers/routes.js';
import { discountRoutes } from './discounts/routes.js';
import { entitlementRoutes } from './entitlements/routes.js';
import { eventRoutes } from './events-webhooks/routes.js';
import { invoiceRoutes } from './invoices/routes.js';
import { paymentRoutes } from './payments/routes.js';
import { catalogueRoutes } from './products-prices/routes.js';
import { subscriptionScheduleRoutes } from './subscription-schedules/routes.js';
import { subscriptionRoutes } from './subscriptions/routes.js';
import { testClockRoutes } from './test-clocks/routes.js';

export const OPERATIONS: readonly Operation[] = [
  ...accountRoutes,
  ...customerRoutes,
  ...catalogueRoutes,
  ...checkoutRoutes,
  ...subscriptionRoutes,
  ...subscriptionScheduleRoutes,
  ...invoiceRoutes,
  ...paymentRoutes,
  ...portalRoutes,
  ...eventRoutes,
  ...testClockRoutes,
  ...discountRoutes,
  ...entitlementRoutes,
];
