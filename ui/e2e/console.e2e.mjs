// End-to-end: the real `microclaw start` + the built UI in headless chromium.
// Run with `npm run e2e` (needs ui/dist built and the microclaw binary; see server.mjs).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { launchBrowser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = process.env.SCREENSHOT_DIR || resolve(here, '../../docs/screenshots');
const PASSWORD = 'e2e correct horse battery';
const T = 15_000;

let server, browser, context, page;
const pageErrors = [];

async function shot(name) {
  mkdirSync(shots, { recursive: true });
  // Toasts from earlier steps would cover the page.
  for (const b of await page.locator('[data-testid="toasts"] button').all()) await b.click().catch(() => undefined);
  await page.screenshot({ path: resolve(shots, `${name}.png`), fullPage: false });
}
async function go(hash) {
  await page.evaluate((h) => (location.hash = h), hash);
}
async function expectConnected() {
  await page.getByTestId('connection-indicator').filter({ hasText: 'connected' }).waitFor({ timeout: T });
  assert.equal(await page.getByTestId('connection-indicator').textContent(), 'connected');
}
async function send(text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Control+Enter');
}

describe('MicroClaw Console in a browser', { concurrency: false }, () => {
  before(async () => {
    // Throttle loosened (the tests log in more than once) and short retention: both make the
    // self-check report warnings (login_throttle_weak medium, metrics_retention_short low).
    server = await startServer({ MICROCLAW_AUTH__LOGIN_MAX_ATTEMPTS: '50', MICROCLAW_METRICS__HISTORY_RETENTION_DAYS: '3' });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('dialog', (d) => d.accept());
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('first run: the setup URL sets the password and signs in', async () => {
    assert.ok(server.setupUrl, `the server printed no setup URL:\n${server.output.join('')}`);
    await page.goto(server.setupUrl);
    await page.getByTestId('setup-form').waitFor({ timeout: T });
    await shot('setup');
    // The 12-character rule is enforced before any request.
    await page.getByTestId('setup-password').fill('too short');
    await page.getByTestId('setup-confirm').fill('too short');
    await page.getByTestId('setup-submit').click();
    assert.match(await page.getByTestId('setup-error').textContent(), /at least 12/);
    await page.getByTestId('setup-password').fill(PASSWORD);
    await page.getByTestId('setup-confirm').fill(PASSWORD);
    await page.getByTestId('setup-submit').click();
    await expectConnected();
  });

  it('logout then login with the password', async () => {
    await go('#/auth');
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor({ timeout: T });
    await page.getByTestId('login-password').fill('wrong password!!');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor({ timeout: T });
    await shot('login');
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await expectConnected();
  });

  it('creates an API key that works, then revokes it', async () => {
    await go('#/auth');
    await page.getByTestId('key-label').fill('e2e key');
    await page.getByTestId('key-scope-operator.write').check();
    await page.getByTestId('key-create').click();
    const raw = (await page.getByTestId('key-raw').textContent({ timeout: T })).trim();
    assert.match(raw, /^mk_[0-9a-f]{32}$/);
    await page.getByTestId('key-row').filter({ hasText: 'e2e key' }).waitFor({ timeout: T });
    await shot('auth');
    const auth = { authorization: `Bearer ${raw}` };
    assert.equal((await fetch(`${server.url}/api/sessions?limit=1`, { headers: auth })).status, 200);
    const row = page.getByTestId('key-row').filter({ hasText: 'e2e key' });
    await row.getByTestId('key-revoke').click();
    await page.locator('[data-testid="key-row"][data-status="revoked"]').filter({ hasText: 'e2e key' }).waitFor({ timeout: T });
    assert.equal((await fetch(`${server.url}/api/sessions?limit=1`, { headers: auth })).status, 401);
  });

  it('sends "status summary" and watches the reply stream in', async () => {
    await go('#/sessions?key=e2e-main');
    await page.getByTestId('composer').waitFor({ timeout: T });
    await send('status summary');
    await page.getByTestId('live-run').first().waitFor({ timeout: T });
    const reply = page.locator('[data-testid="message"][data-role="assistant"]').first();
    await reply.waitFor({ timeout: T });
    assert.ok(((await reply.textContent()) ?? '').length > 20, 'the status reply has text');
    await page.locator('[data-testid="message"][data-role="user"]').filter({ hasText: 'status summary' }).first().waitFor({ timeout: T });
    await page.locator('[data-testid="session-row"][data-key="e2e-main"]').waitFor({ timeout: T });
    await shot('sessions');
  });

  it('/slow 10 streams until the run is killed', async () => {
    // Record every state a live run shows: the aborted bubble may be replaced by history quickly.
    await page.evaluate(() => {
      window.__runStates = [];
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid="live-run"]')) {
          const s = el.getAttribute('data-state');
          if (window.__runStates.at(-1) !== s) window.__runStates.push(s);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
    });
    const t0 = Date.now();
    await send('/slow 10');
    await page.locator('[data-testid="live-run"][data-state="delta"]').waitFor({ timeout: T });
    await page.getByTestId('kill-run').click();
    await page.waitForFunction(() => window.__runStates.includes('aborted'), null, { timeout: 8000 });
    assert.ok(Date.now() - t0 < 9000, 'the run ended well before its 10 s');
    await page.locator('[data-testid="live-run"][data-state="delta"]').waitFor({ state: 'detached', timeout: T });
  });

  it('forks at a message and shows the fork in the tree', async () => {
    await page.getByTestId('fork-here').first().click();
    await page.waitForFunction(() => /key=e2e-main-fork-/.test(decodeURIComponent(location.hash)), null, { timeout: T });
    const target = await page.getByTestId('session-title').textContent();
    assert.match(target, /^e2e-main-fork-/);
    await page.getByTestId('tab-tree').click();
    const node = page.locator(`[data-testid="tree-node"][data-key="${target}"]`);
    await node.waitFor({ timeout: T });
    assert.equal(await node.getAttribute('data-depth'), '1');
    await page.locator('[data-testid="tree-node"][data-key="e2e-main"][data-depth="0"]').waitFor({ timeout: T });
    await shot('sessions-tree');
  });

  it('exports the metrics as CSV', async () => {
    await go('#/metrics');
    await page.getByTestId('slo-card').first().waitFor({ timeout: T });
    await shot('metrics');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.getByTestId('export-csv').click()]);
    assert.match(download.suggestedFilename(), /\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    const [header] = csv.split(/\r?\n/);
    assert.match(header, /timestamp_ms/);
    assert.match(header, /request_ok/);
  });

  it('the Safety page lists the self-check warnings, high first', async () => {
    await go('#/safety');
    const warnings = page.getByTestId('selfcheck-warning');
    await warnings.first().waitFor({ timeout: T });
    const codes = await warnings.evaluateAll((els) => els.map((e) => [e.dataset.code, e.dataset.severity]));
    assert.ok(codes.some(([c]) => c === 'login_throttle_weak'), `warnings: ${JSON.stringify(codes)}`);
    const rank = { high: 0, medium: 1, low: 2 };
    const ranks = codes.map(([, s]) => rank[s]);
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
    await shot('safety');
  });

  it('the Gateway page shows the listen URL and copy-ready commands', async () => {
    await go('#/gateway');
    assert.equal(await page.getByTestId('listen-url').textContent(), server.url);
    assert.match(await page.getByTestId('snippet-openclaw').textContent(), /openclaw gateway call health --url ws:\/\/127\.0\.0\.1:\d+ --token/);
    await expectConnected();
    await shot('gateway');
  });

  it('no uncaught page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
