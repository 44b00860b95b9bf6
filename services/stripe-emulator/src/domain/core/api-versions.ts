/**
 * `Stripe-Version`: the versions Stripe has released (from stripe-node's
 * changelog, and the older dated ones still in use). A known version is
 * accepted and echoed back; objects and events are still rendered in the
 * version the SDK pins (API_VERSION), as the emulator has one shape per
 * object. An unknown version is refused, as Stripe refuses it.
 */
import { invalidRequest, type StripeApiError } from './errors.js';
import { API_VERSION } from './shapes.js';

export const KNOWN_API_VERSIONS: ReadonlySet<string> = new Set([
  '2017-08-15',
  '2018-02-28',
  '2018-05-21',
  '2018-08-23',
  '2018-09-24',
  '2018-11-08',
  '2019-02-19',
  '2019-03-14',
  '2019-05-16',
  '2019-08-14',
  '2019-09-09',
  '2019-10-08',
  '2019-10-17',
  '2019-11-05',
  '2019-12-03',
  '2020-03-02',
  '2020-08-27',
  '2022-08-01',
  '2022-11-15',
  '2023-08-16',
  '2023-10-16',
  '2024-04-10',
  '2024-06-20',
  '2024-09-30.acacia',
  '2024-10-28.acacia',
  '2024-11-20.acacia',
  '2024-12-18.acacia',
  '2025-01-27.acacia',
  '2025-02-24.acacia',
  '2025-03-31.basil',
  '2025-04-30.basil',
  '2025-05-28.basil',
  '2025-06-30.basil',
  '2025-07-30.basil',
  '2025-08-27.basil',
  '2025-09-30.clover',
  '2025-10-29.clover',
  '2025-11-17.clover',
  '2025-12-15.clover',
  '2026-01-28.clover',
  '2026-02-25.clover',
  '2026-03-25.dahlia',
  '2026-04-22.dahlia',
  '2026-05-27.dahlia',
  '2026-06-24.dahlia',
  '2026-07-29.dahlia',
  '2026-08-26.dahlia',
  '2026-09-30.endive',
  API_VERSION,
]);

/** The version to echo for a request's `Stripe-Version` header, or Stripe's error for an unknown one. */
export function negotiateVersion(header: string | string[] | undefined): string | StripeApiError {
  const asked = Array.isArray(header) ? header[0] : header;
  if (asked === undefined || asked.trim() === '') return API_VERSION;
  const version = asked.trim();
  if (KNOWN_API_VERSIONS.has(version)) return version;
  return invalidRequest(
    `Invalid Stripe API version: ${version}. Stripe-Version must be a released API version, such as ${API_VERSION}.`,
    undefined,
    'api_version_invalid',
  );
}
