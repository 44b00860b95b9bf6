/**
 * The screenshots the README shows (docs/screenshots/, committed). Every
 * e2e run saves its full-page screenshots to e2e/artifacts/ (ignored); the
 * README's small copies, what fits in a 1100×760 window, are rewritten only
 * when asked, so a test run leaves the working tree clean:
 *
 *   UPDATE_SCREENSHOTS=1 npm run test:e2e
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { screenshot } from './browser.js';

export const README_SHOTS_DIR = path.join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
/** The ones the README shows. */
const README_SHOTS = new Set(['home', 'account', 'checkout', 'success', 'cancel', 'swagger']);

export async function shot(page: Page, name: string): Promise<string> {
  const file = await screenshot(page, name);
  if (process.env.UPDATE_SCREENSHOTS === '1' && README_SHOTS.has(name)) {
    await mkdir(README_SHOTS_DIR, { recursive: true });
    const size = page.viewportSize();
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.screenshot({ path: path.join(README_SHOTS_DIR, `${name}.png`), fullPage: false });
    if (size) await page.setViewportSize(size);
  }
  return file;
}
