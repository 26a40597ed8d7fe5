import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where a failing step's screenshot goes (kept for the report; .gitignore'd). */
export const SCREENSHOT_DIR = path.resolve('test-results/screenshots');

/**
 * Debian's Chromium driven headless by playwright-core (environment.md: `npx playwright install`
 * cannot download a browser here). Fails, never skips, with what to install when there is none.
 * EM_SIM_CHROMIUM names another binary.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.EM_SIM_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`The dashboard's browser tests need Chromium at ${executablePath}: install it (Debian: apt-get install chromium; scripts/ensure-chromium.sh does it), or set EM_SIM_CHROMIUM to a Chromium or Chrome binary`);
  }
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/**
 * Runs one step of a browser test; when it fails, saves a screenshot of the page as
 * test-results/screenshots/<name>.png and fails with the step's name and the screenshot's path.
 */
export async function step<T>(page: Page, name: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `step "${name}" failed (screenshot: ${file}): ${e.message}`;
    throw e;
  }
}
