import { type Operation, op } from '../core/route.js';
import {
  cancelSchedule,
  createSchedule,
  listSchedules,
  releaseSchedule,
  updateSchedule,
} from './schedules.js';

export const subscriptionScheduleRoutes: Operation[] = [
  op('POST', '/v1/subscription_schedules', (c) => createSchedule(c.em, c.params, c.req)),
  op('GET', '/v1/subscription_schedules', (c) => listSchedules(c.em, c.params)),
  op('GET', '/v1/subscription_schedules/:id', (c) => c.em.store.subscriptionSchedules.require(c.id)),
  op('POST', '/v1/subscription_schedules/:id', (c) => updateSchedule(c.em, c.id, c.params, c.req)),
  op('POST', '/v1/subscription_schedules/:id/release', (c) => releaseSchedule(c.em, c.id, c.req)),
  op('POST', '/v1/subscription_schedules/:id/cancel', (c) => cancelSchedule(c.em, c.id, c.req)),
];
