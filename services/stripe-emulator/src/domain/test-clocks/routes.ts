import { type Operation, op } from '../core/route.js';
import {
  advanceTestClock,
  createTestClock,
  deleteTestClock,
  listTestClocks,
  retrieveTestClock,
} from './test-clocks.js';

export const testClockRoutes: Operation[] = [
  op('POST', '/v1/test_helpers/test_clocks', (c) => createTestClock(c.em, c.params, c.req)),
  op('GET', '/v1/test_helpers/test_clocks', (c) => listTestClocks(c.em, c.params)),
  op('GET', '/v1/test_helpers/test_clocks/:id', (c) => retrieveTestClock(c.em, c.id)),
  op('DELETE', '/v1/test_helpers/test_clocks/:id', (c) => deleteTestClock(c.em, c.id, c.req)),
  op('POST', '/v1/test_helpers/test_clocks/:id/advance', (c) =>
    advanceTestClock(c.em, c.id, c.params, c.req),
  ),
];
