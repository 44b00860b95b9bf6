/**
 * Grant sources. A grant is keyed by (user, role, source); billing's grants
 * carry the subscription that pays for them, so revoking one subscription's
 * grant leaves another's (or an admin's) in place.
 */
export const SUBSCRIPTION_SOURCE_PREFIX = 'subscription:';

/** The source of a grant a subscription pays for: `subscription:<id>`. */
export function subscriptionSource(subscriptionId: string): string {
  return `${SUBSCRIPTION_SOURCE_PREFIX}${subscriptionId}`;
}

/** The subscription id in a `subscription:<id>` source, or undefined for any other source. */
export function subscriptionIdOf(source: string): string | undefined {
  if (!source.startsWith(SUBSCRIPTION_SOURCE_PREFIX)) return undefined;
  const id = source.slice(SUBSCRIPTION_SOURCE_PREFIX.length);
  return id.length > 0 ? id : undefined;
}

export const PURCHASE_SOURCE_PREFIX = 'purchase:';

/** The source of a grant a one-time purchase pays for: `purchase:<checkout session id>`. */
export function purchaseSource(purchaseId: string): string {
  return `${PURCHASE_SOURCE_PREFIX}${purchaseId}`;
}
