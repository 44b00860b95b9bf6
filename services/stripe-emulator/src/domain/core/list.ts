/** Stripe's cursor pagination: `limit`, `starting_after`, `ending_before`, `has_more`. */
import type Stripe from 'stripe';
import { invalidParam, resourceMissing } from './errors.js';
import type { Params } from './params.js';

/**
 * One page of `newestFirst` filtered by `matches`. The walk stops once the
 * page and one more match are found, so listing stays fast on big stores.
 */
export function paginate<T extends { id: string }>(
  newestFirst: readonly T[],
  params: Params,
  url: string,
  kind: string,
  matches: (item: T) => boolean = () => true,
): Stripe.ApiList<T> {
  const limit = params.integer('limit') ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidParam(
      'limit',
      limit < 1
        ? 'This value must be greater than or equal to 1.'
        : 'This value must be less than or equal to 100.',
      'parameter_invalid_integer',
    );
  }
  const startingAfter = params.string('starting_after');
  const endingBefore = params.string('ending_before');
  const data: T[] = [];
  let hasMore = false;
  if (endingBefore && !startingAfter) {
    const index = newestFirst.findIndex((x) => x.id === endingBefore);
    if (index < 0) throw resourceMissing(kind, endingBefore, 'ending_before');
    for (let i = index - 1; i >= 0; i--) {
      const item = newestFirst[i] as T;
      if (!matches(item)) continue;
      if (data.length === limit) {
        hasMore = true;
        break;
      }
      data.unshift(item);
    }
    return { object: 'list', data, has_more: hasMore, url };
  }
  let start = 0;
  if (startingAfter) {
    const index = newestFirst.findIndex((x) => x.id === startingAfter);
    if (index < 0) throw resourceMissing(kind, startingAfter, 'starting_after');
    start = index + 1;
  }
  for (let i = start; i < newestFirst.length; i++) {
    const item = newestFirst[i] as T;
    if (!matches(item)) continue;
    if (data.length === limit) {
      hasMore = true;
      break;
    }
    data.push(item);
  }
  return { object: 'list', data, has_more: hasMore, url };
}
