import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';

/**
 * A real headless browser for the tests that look at pages as a person would: Debian's chromium
 * (Playwright's own browser download cannot run here), driven through playwright-core.
 */
export const CHROMIUM_PATH = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Screenshots go to .vigil/screenshots; with VIGIL_UPDATE_SCREENSHOTS=1 to docs/img, the ones the
 * README shows (committed), so an ordinary test run leaves the checkout unchanged.
 */
export const SCREENSHOT_DIR = path.resolve(
  import.meta.dirname,
  process.env.VIGIL_UPDATE_SCREENSHOTS === '1' ? '../docs/img' : '../.vigil/screenshots',
);

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no browser at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium) or set VIGIL_CHROMIUM`,
    );
  }
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * A page whose requests must all stay on this machine: any request to another host is aborted
 * (so a page that needs the internet fails here as it would offline) and recorded in `offHost`.
 */
export async function loopbackOnlyPage(browser: Browser): Promise<{ page: Page; offHost: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const offHost: string[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (
      (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ws:') &&
      !LOOPBACK.has(url.hostname)
    ) {
      offHost.push(req.url());
    }
  });
  await page.route(
    (url) => !['data:', 'blob:'].includes(url.protocol) && !LOOPBACK.has(url.hostname),
    (route) => route.abort('blockedbyclient'),
  );
  return { page, offHost };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file });
  return file;
}
