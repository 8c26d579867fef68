// Headless Debian chromium through playwright-core (no browser download).
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} is missing: apt-get install -y --no-install-recommends chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/**
 * Finishes first-run setup in `page` from the server's one-time setup URL with `password` and
 * waits until the console shows it is connected (signed in).
 */
export async function completeSetup(page, server, password, timeout) {
  if (!server.setupUrl) throw new Error(`no setup URL:\n${server.output.join('')}`);
  await page.goto(server.setupUrl);
  await page.getByTestId('setup-password').fill(password);
  await page.getByTestId('setup-confirm').fill(password);
  await page.getByTestId('setup-submit').click();
  await page.getByTestId('connection-indicator').filter({ hasText: 'connected' }).waitFor({ timeout });
}
