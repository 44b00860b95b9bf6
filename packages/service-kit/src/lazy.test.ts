import { describe, expect, it } from 'vitest';
import { lazy } from './lazy.js';

describe('lazy', () => {
  it('loads nothing until the first call', async () => {
    let loads = 0;
    const get = lazy(async () => ++loads);
    expect(loads).toBe(0);
    expect(await get()).toBe(1);
    expect(loads).toBe(1);
  });

  it('shares one load between concurrent and later calls', async () => {
    let loads = 0;
    const get = lazy(async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return { loaded: loads };
    });
    const [a, b] = await Promise.all([get(), get()]);
    const c = await get();
    expect(loads).toBe(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  it('tries a failed load again at the next call', async () => {
    let attempts = 0;
    const get = lazy(async () => {
      attempts++;
      if (attempts === 1) throw new Error('not yet');
      return 'loaded';
    });
    await expect(get()).rejects.toThrow('not yet');
    expect(await get()).toBe('loaded');
    expect(attempts).toBe(2);
  });
});
