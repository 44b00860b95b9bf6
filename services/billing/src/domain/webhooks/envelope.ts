/**
 * The shape every Stripe event must have before the inbox stores it. A valid
 * signature only proves who sent the bytes, not that they are a well-formed
 * event: a signed event without `created` once threw inside the inbox's
 * batch timer and took the process down. Checked on the request path, so a
 * malformed event is a 400 with nothing stored.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

// 9999-12-31T23:59:59Z: beyond this a Date (and Postgres' timestamptz input) is not valid.
const MAX_UNIX_SECONDS = 253_402_300_799;

export const EventEnvelope = Type.Object({
  id: Type.String({ pattern: '^evt_[A-Za-z0-9_]{1,250}$' }),
  object: Type.Optional(Type.Literal('event')),
  type: Type.String({ pattern: '^[a-z0-9_]+(\\.[a-z0-9_]+)+$', maxLength: 200 }),
  created: Type.Integer({ minimum: 0, maximum: MAX_UNIX_SECONDS }),
  api_version: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  livemode: Type.Optional(Type.Boolean()),
  data: Type.Object({
    // Some objects (invoice.upcoming's invoice) have no id; when there is one it is a string.
    object: Type.Object({ id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
  }),
});

export type EventEnvelope = Static<typeof EventEnvelope>;

/** null when `value` is a well-formed event envelope, else what is wrong with it (for the 400's detail). */
export function envelopeProblem(value: unknown): string | null {
  if (Value.Check(EventEnvelope, value)) return null;
  const first = Value.Errors(EventEnvelope, value).First();
  if (!first) return 'the body is not a Stripe event';
  const where = first.path ? first.path.slice(1).replaceAll('/', '.') : 'the event';
  return `${where || 'the event'}: ${first.message.toLowerCase()}`;
}
