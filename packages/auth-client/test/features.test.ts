import { ProblemError } from '@tollgate/service-kit';
import { describe, expect, it } from 'vitest';
import { type AccessTokenClaims, claimsOnUser, hasFeature, limitOf, requireFeature } from '../src/index.js';

const claims: Pick<AccessTokenClaims, 'ent'> = { ent: { v: 2, f: { hd: true, projects: 10, seats: 0 } } };

describe('limitOf and hasFeature', () => {
  it('read the ent claim: true, a limit, or undefined', () => {
    expect(limitOf(claims, 'hd')).toBe(true);
    expect(limitOf(claims, 'projects')).toBe(10);
    expect(limitOf(claims, 'api')).toBeUndefined();
    expect(limitOf(claims, 'toString')).toBeUndefined();
    expect(limitOf({}, 'hd')).toBeUndefined();
    expect(limitOf(undefined, 'hd')).toBeUndefined();
    expect(hasFeature(claims, 'projects')).toBe(true);
    expect(hasFeature(claims, 'seats')).toBe(false);
    expect(hasFeature(claims, '__proto__')).toBe(false);
  });
});

describe('requireFeature', () => {
  it('lets a request through when its token grants the feature, else 403 feature_required', async () => {
    const check = requireFeature('hd');
    await expect(check({ user: claims })).resolves.toBeUndefined();
    const error = await requireFeature('api')({ user: claims }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({ status: 403, code: 'feature_required', extensions: { feature: 'api' } });
    await expect(requireFeature('hd')({})).rejects.toMatchObject({ code: 'feature_required' });
    await expect(requireFeature('seats')({ user: claims })).rejects.toMatchObject({
      code: 'feature_required',
    });
  });

  it('reads the claims from where the service keeps them', async () => {
    const check = requireFeature('hd', (r: { auth: typeof claims }) => r.auth);
    await expect(check({ auth: claims })).resolves.toBeUndefined();
    expect(claimsOnUser({ user: claims })).toBe(claims);
  });
});
