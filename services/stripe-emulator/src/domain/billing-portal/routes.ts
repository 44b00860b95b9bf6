import { type Operation, op } from '../core/route.js';
import { createPortalSession } from './portal.js';

export const portalRoutes: Operation[] = [
  op('POST', '/v1/billing_portal/sessions', (c) => createPortalSession(c.em, c.params, c.req)),
];
