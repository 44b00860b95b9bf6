/** The cause of a grant, revoke or entitlement change, as recorded in both services' audit logs. */
import { type Static, Type } from '@sinclair/typebox';

/**
 * Why something changed, for the audit log of both services. `type` says
 * what kind of cause: e.g. `stripe_event`, `admin`, `dunning`, `refund`,
 * `reconcile`, `sync`.
 */
export const ChangeCause = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_.-]*$' }),
    event_id: Type.Optional(Type.String({ maxLength: 255 })),
    event_type: Type.Optional(Type.String({ maxLength: 255 })),
    subscription_id: Type.Optional(Type.String({ maxLength: 255 })),
    detail: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type ChangeCause = Static<typeof ChangeCause>;
