/**
 * Debian's Chromium driven by playwright-core (no `playwright install`): one
 * browser per test file, a fresh context (profile) per user, and a record of
 * every Content-Security-Policy violation the pages report.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.join(import.meta.dirname, '..', 'artifacts');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A CSP violation as the page saw it: the DOM's `securitypolicyviolation`
 * event (Chromium prints its "Refused to ..." lines to the DevTools log, which
 * playwright does not surface as console messages; the event has the same
 * facts, and where the blocked code is).
 */
export interface CspViolation {
  url: string;
  directive: string;
  blocked: string;
  /** Where the blocked code is (script URL:line:column), when the browser says. */
  source?: string;
}

export interface WatchedContext {
  context: BrowserContext;
  violations: CspViolation[];
  /** Console errors (CSP or not), with the page URL they came from. */
  consoleErrors: { url: string; text: string }[];
  newPage(): Promise<Page>;
}

/** A fresh browser context whose pages report CSP violations and console errors. */
export async function watchedContext(browser: Browser): Promise<WatchedContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const violations: CspViolation[] = [];
  const consoleErrors: { url: string; text: string }[] = [];
  await context.exposeBinding('__reportCspViolation', ({ page }, violation: Omit<CspViolation, 'url'>) => {
    violations.push({ url: page.url(), ...violation });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as Record<string, (v: unknown) => void>).__reportCspViolation;
      report?.({
        directive: event.effectiveDirective,
        blocked: event.blockedURI,
        source: event.sourceFile
          ? `${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`
          : undefined,
      });
    });
  });
  context.on('console', (message) => {
    if (message.type() !== 'error') return;
    consoleErrors.push({ url: message.page()?.url() ?? '', text: message.text() });
  });
  return { context, violations, consoleErrors, newPage: () => context.newPage() };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
