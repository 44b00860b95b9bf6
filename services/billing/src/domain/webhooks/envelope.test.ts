import { describe, expect, it } from 'vitest';
import { envelopeProblem } from './envelope.js';

const good = () => ({
  id: 'evt_1Abc',
  object: 'event',
  type: 'customer.subscription.updated',
  created: 1_700_000_000,
  api_version: '2026-10-28.endive',
  livemode: false,
  data: { object: { id: 'sub_1', object: 'subscription' } },
});

describe('envelopeProblem', () => {
  it('accepts a well-formed event, including one whose object has no id', () => {
    expect(envelopeProblem(good())).toBeNull();
    expect(envelopeProblem({ ...good(), data: { object: { object: 'invoice' } } })).toBeNull();
    expect(envelopeProblem({ ...good(), api_version: null })).toBeNull();
  });

  it.each([
    ['created missing', (e: Record<string, unknown>) => delete e.created, 'created'],
    ['created a string', (e: Record<string, unknown>) => (e.created = 'yesterday'), 'created'],
    ['created beyond a valid date', (e: Record<string, unknown>) => (e.created = 1e15), 'created'],
    ['created fractional', (e: Record<string, unknown>) => (e.created = 1.5), 'created'],
    ['id missing', (e: Record<string, unknown>) => delete e.id, 'id'],
    ['id not an event id', (e: Record<string, unknown>) => (e.id = 'sub_1'), 'id'],
    ['type missing', (e: Record<string, unknown>) => delete e.type, 'type'],
    ['type malformed', (e: Record<string, unknown>) => (e.type = 'DROP TABLE'), 'type'],
    ['data missing', (e: Record<string, unknown>) => delete e.data, 'data'],
    ['data.object missing', (e: Record<string, unknown>) => (e.data = {}), 'data'],
    ['data.object not an object', (e: Record<string, unknown>) => (e.data = { object: 'x' }), 'data.object'],
    [
      'data.object.id a number',
      (e: Record<string, unknown>) => (e.data = { object: { id: 7 } }),
      'data.object.id',
    ],
  ])('refuses an event with %s, naming the field', (_name, spoil, field) => {
    const event: Record<string, unknown> = good();
    spoil(event);
    expect(envelopeProblem(event)).toMatch(new RegExp(`^${field.replace('.', '\\.')}`));
  });

  it('refuses what is not an object at all', () => {
    expect(envelopeProblem(null)).not.toBeNull();
    expect(envelopeProblem([1, 2])).not.toBeNull();
    expect(envelopeProblem('evt_1')).not.toBeNull();
  });
});
