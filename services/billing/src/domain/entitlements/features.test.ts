import { describe, expect, it } from 'vitest';
import { deriveEntitlements } from './derive.js';
import { featuresOfProduct, limitOf, restrictFeatures, unionFeatures } from './features.js';

describe('limits from feature metadata', () => {
  it('reads a whole-number `limit`; anything else is a boolean feature', () => {
    expect(limitOf({ limit: '10' })).toBe(10);
    expect(limitOf({ limit: ' 0 ' })).toBe(0);
    expect(limitOf({ limit: 'ten' })).toBeNull();
    expect(limitOf({ limit: '-1' })).toBeNull();
    expect(limitOf({})).toBeNull();
    expect(limitOf(null)).toBeNull();
  });

  it('archived features of a product grant nothing', () => {
    expect(
      featuresOfProduct([
        { lookupKey: 'hd', limit: null, active: true },
        { lookupKey: 'projects', limit: 5, active: true },
        { lookupKey: 'old', limit: null, active: false },
      ]),
    ).toEqual({ hd: true, projects: 5 });
  });
});

describe('the union', () => {
  it('grants every key anywhere granted; the highest limit wins; a number beats true', () => {
    expect(
      unionFeatures([{ hd: true, projects: 10 }, { projects: 50, downloads: true }, { projects: 3 }]),
    ).toEqual({
      downloads: true,
      hd: true,
      projects: 50,
    });
    expect(unionFeatures([{ seats: true }, { seats: 2 }])).toEqual({ seats: 2 });
    expect(unionFeatures([{ seats: 2 }, { seats: true }])).toEqual({ seats: 2 });
  });

  it('derives features, roles and sources from every granting source', () => {
    const derived = deriveEntitlements([
      {
        type: 'purchase',
        id: 'cs_1',
        productId: 'prod_pack',
        state: 'paid',
        until: null,
        role: null,
        features: { projects: 50 },
      },
      {
        type: 'subscription',
        id: 'sub_1',
        productId: 'prod_p',
        state: 'past_due',
        until: new Date('2026-12-18T00:00:00Z'),
        role: 'premium',
        features: { hd: true, projects: 10 },
      },
      {
        type: 'subscription',
        id: 'sub_0',
        productId: 'prod_b',
        state: 'revoked',
        until: null,
        role: null,
        features: {},
      },
    ]);
    expect(derived.features).toEqual({ hd: true, projects: 50 });
    expect(derived.roles).toEqual(['premium']);
    expect(derived.sources.map((s) => [s.type, s.id, s.until])).toEqual([
      ['purchase', 'cs_1', null],
      ['subscription', 'sub_1', '2026-12-18T00:00:00.000Z'],
    ]);
  });
});

describe('restriction', () => {
  it('restricted keeps only configured features the plan grants, at the lower limit', () => {
    expect(
      restrictFeatures({ hd: true, uhd: true, projects: 10 }, { hd: true, projects: 2, offline: true }),
    ).toEqual({
      hd: true,
      projects: 2,
    });
    expect(restrictFeatures({ projects: 1 }, { projects: 5 })).toEqual({ projects: 1 });
  });
});
