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
  // (Clicked in the page: a toast that expires meanwhile must not stall a locator click.)
  await page.evaluate(() => document.querySelectorAll('[data-testid="toasts"] button').forEach((b) => b.click()));
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
    server = await startServer({
      MICROCLAW_AUTH__LOGIN_MAX_ATTEMPTS: '50',
      MICROCLAW_METRICS__HISTORY_RETENTION_DAYS: '3',
      // History rows appear within a second, so the charts have data without waiting 10 s.
      MICROCLAW_METRICS__FLUSH_INTERVAL_SECONDS: '1',
    });
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
    // The Overview is the home page.
    await page.getByTestId('overview-verdict').waitFor({ timeout: T });
    assert.match(await page.evaluate(() => location.hash), /^#\/overview/);
    // No run yet: the success-rate budget has no samples, so it says "no data", not 100 %.
    const budget = page.locator('[data-testid="overview-slo"][data-slo="request_success_rate"] [data-testid="overview-budget"]');
    assert.match(await budget.textContent({ timeout: T }), /error budget: no data/);
    assert.equal(await page.getByTestId('overview-verdict').getAttribute('data-verdict'), 'unknown');
  });

  it('logout then login with the password', async () => {
    await go('#/auth');
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor({ timeout: T });
    await page.getByTestId('login-password').fill('wrong password!!');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor({ timeout: T });
    await shot('login');
    // Back after sign-out must not leave the shell stuck: it lands on the login form again.
    await page.goBack();
    await page.getByTestId('login-form').waitFor({ timeout: T });
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
    // Keyboard: from the top, Tab reaches the skip links first; one of them jumps to the composer.
    await page.reload();
    await page.getByTestId('composer').waitFor({ timeout: T });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'skip-main');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'skip-composer');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'composer');
    assert.equal(await page.locator('h1').count(), 1, 'the Sessions page has an h1');
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
    // The killed run stays in the transcript, marked as aborted (from chat.history's stopReason).
    await page.locator('[data-testid="message"][data-stop="aborted"] [data-testid="run-aborted"]').first().waitFor({ timeout: T });
  });

  it('a failed run (/fail) leaves an error bubble that survives a reload', async () => {
    await send('/fail');
    const marker = page.locator('[data-testid="message"][data-stop="error"] [data-testid="run-error"]').first();
    await marker.waitFor({ timeout: T });
    assert.match(await marker.textContent(), /The run failed: .*simulated failure/);
    await page.reload();
    await marker.waitFor({ timeout: T });
    // Toasts sit away from the Send button.
    const send_ = await page.getByTestId('send-button').boundingBox();
    const toasts = await page.getByTestId('toasts').boundingBox();
    assert.ok(!toasts || toasts.y + toasts.height < send_.y, 'toasts do not cover Send');
  });

  it('forks at a message and shows the fork in the tree', async () => {
    await page.getByTestId('fork-here').first().click();
    // The form proposes <root key>-fork-<8 hex> and "<label> (fork)", both editable.
    assert.match(await page.getByTestId('fork-key').inputValue(), /^e2e-main-fork-[0-9a-f]{8}$/);
    assert.equal(await page.getByTestId('fork-label').inputValue(), 'e2e-main (fork)');
    await page.getByTestId('fork-submit').click();
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

  it('Metrics: the range is in the URL, tooltips show exact values, drag zooms and resets', async () => {
    await go('#/metrics');
    await page.getByTestId('chart-requests').locator('.u-over').waitFor({ timeout: T });
    await page.getByTestId('range-6h').click();
    await page.waitForFunction(() => location.hash.includes('from=now-6h'), null, { timeout: T });
    await page.reload();
    await page.locator('[data-testid="range-6h"].on').waitFor({ timeout: T });
    await page.getByTestId('range-1h').click();
    await page.waitForFunction(() => location.hash === '#/metrics', null, { timeout: T });
    const over = page.getByTestId('chart-requests').locator('.u-over');
    await over.waitFor({ timeout: T });
    await page.locator('[data-testid="chart-requests"][data-has-data="true"]').waitFor({ timeout: T });
    const box = await over.boundingBox();
    // Hover from the newest step back until one with data: the tooltip names the time and the
    // exact values with their unit (steps without data say "—", not 0).
    const tip = page.getByTestId('chart-requests').getByTestId('chart-tooltip');
    let text = '';
    for (let x = box.width - 1; x > box.width * 0.8; x -= 2) {
      await page.mouse.move(box.x + x, box.y + box.height / 2);
      text = (await tip.textContent()) ?? '';
      if (/total: [\d.,]+ req\/min/.test(text)) break;
    }
    assert.match(text, /total: [\d.,]+ req\/min/);
    assert.ok(await tip.isVisible());
    // Only the hovered panel shows a tooltip.
    assert.equal(await page.getByTestId('chart-latency').getByTestId('chart-tooltip').isVisible(), false);
    // Crosshair sync: the other panels' cursors follow.
    const synced = await page.getByTestId('chart-latency').locator('.u-cursor-x').evaluate((el) => getComputedStyle(el).display !== 'none' && el.style.transform !== '');
    assert.ok(synced, 'the latency panel shows the synced crosshair');
    await shot('metrics');
    // Drag across 40 % of the panel: an absolute range in the URL, and a Reset zoom button.
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 4 });
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(() => /from=\d{13}&to=\d{13}/.test(location.hash), null, { timeout: T });
    const [, from, to] = /from=(\d+)&to=(\d+)/.exec(await page.evaluate(() => location.hash));
    const spanMin = (Number(to) - Number(from)) / 60_000;
    assert.ok(spanMin > 18 && spanMin < 30, `zoomed to ~24 of 60 minutes, got ${spanMin}`);
    await page.getByTestId('zoom-reset').click();
    await page.waitForFunction(() => location.hash === '#/metrics', null, { timeout: T });
    await page.getByTestId('route-table').waitFor({ timeout: T });
    await page.getByTestId('method-table').locator('[data-method="chat.send"]').waitFor({ timeout: T });
  });

  it('exports the metrics as CSV', async () => {
    await go('#/metrics');
    await page.getByTestId('slo-card').first().waitFor({ timeout: T });
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
    // Readable: no raw JSON, no REST calls where the console has the page; config findings name the keys.
    for (const text of await warnings.allTextContents()) assert.doesNotMatch(text, /\{"|(GET|POST|DELETE) \/api\//, text);
    const throttle = page.locator('[data-testid="selfcheck-warning"][data-code="login_throttle_weak"]');
    assert.match(await throttle.textContent(), /Edit auth\.login_max_attempts, auth\.login_window_seconds in microclaw\.toml/);
    await shot('safety');
  });

  it('the Gateway page shows the listen URL and copy-ready commands', async () => {
    await go('#/gateway');
    assert.equal(await page.getByTestId('listen-url').textContent(), server.url);
    assert.match(await page.getByTestId('snippet-openclaw').textContent(), /openclaw gateway call health --url ws:\/\/127\.0\.0\.1:\d+ --token/);
    await expectConnected();
    await shot('gateway');
  });

  it('the Gateway page shows the newest operators live and all of them on request', async () => {
    await go('#/gateway');
    await expectConnected();
    // Twenty more operator sockets from this page (same origin: the login cookie authenticates).
    const extra = 20;
    await page.evaluate(async (n) => {
      window.__extraSockets = [];
      await Promise.all(Array.from({ length: n }, (_, i) => new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/`);
        window.__extraSockets.push(ws);
        ws.onerror = () => reject(new Error(`socket ${i} failed`));
        ws.onmessage = (e) => {
          const m = JSON.parse(e.data);
          if (m.event === 'connect.challenge') {
            ws.send(JSON.stringify({ type: 'req', id: 'c', method: 'connect', params: {
              minProtocol: 3, maxProtocol: 4,
              client: { id: 'e2e', displayName: `extra-${i}`, mode: 'probe', version: '1.0.0', platform: 'e2e', instanceId: `extra-${String(i).padStart(2, '0')}` },
            } }));
          } else if (m.id === 'c') {
            m.ok ? resolve() : reject(new Error(JSON.stringify(m.error)));
          }
        };
      })));
    }, extra);
    const note = page.getByTestId('presence-note');
    // Every socket counts (this page's own too) once the joins have reached the page.
    await page.waitForFunction((n) => {
      const m = /Showing the newest 8 of (\d+)/.exec(document.querySelector('[data-testid="presence-note"]')?.textContent ?? '');
      return m && Number(m[1]) >= n;
    }, extra + 1, { timeout: T });
    assert.equal(await page.getByTestId('presence-row').count(), 8, 'the live list is the newest 8');
    const total = Number(/of (\d+)/.exec(await note.textContent())[1]);
    await page.getByTestId('presence-show-all').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="presence-row"]').length === n, total, { timeout: T });
    const hosts = await page.locator('[data-testid="presence-row"] td:nth-child(2)').allTextContents();
    for (let i = 0; i < extra; i++) assert.ok(hosts.includes(`extra-${i}`), `extra-${i} listed: ${hosts}`);
    assert.match(await note.textContent(), new RegExp(`Showing all ${total}, newest first`));
    // They leave: the whole list is read again on each change.
    await page.evaluate(() => window.__extraSockets.forEach((ws) => ws.close()));
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="presence-row"]').length <= n, total - extra, { timeout: T });
    await page.getByTestId('presence-newest').click();
    assert.equal(await page.getByTestId('presence-show-all').count(), 0, 'nothing hidden once they left');
  });

  it('the Overview links every tile and counts sessions; budgets without data say so', async () => {
    await go('#/overview');
    await page.getByTestId('overview-verdict').waitFor({ timeout: T });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="overview-sessions"]')?.textContent) >= 2, null, { timeout: T });
    for (const [tile, href] of [['tile-sessions', '#/sessions'], ['tile-runs', '#/gateway'], ['tile-alerts', '#/alerts'], ['tile-safety', '#/safety']]) {
      assert.equal(await page.getByTestId(tile).locator('a.title').getAttribute('href'), href);
    }
    const budgets = await page.getByTestId('overview-budget').allTextContents();
    assert.ok(budgets.length > 0);
    for (const b of budgets) assert.doesNotMatch(b, /100\.0%/, 'no budget shows 100 % without data');
    await shot('overview');
  });

  it('Audit lists the sign-ins and filters by kind in the URL; Logs tails live', async () => {
    await go('#/audit');
    await page.getByTestId('audit-row').first().waitFor({ timeout: T });
    const kind = await page.getByTestId('audit-row').first().getAttribute('data-kind');
    await page.getByTestId('audit-kind').fill(kind);
    await page.getByTestId('audit-apply').click();
    await page.waitForFunction((k) => decodeURIComponent(location.hash).includes(`kind=${k}`), kind, { timeout: T });
    // The filtered list replaces the unfiltered one once its request answers: wait for it.
    await page.waitForFunction(
      (k) => {
        const rows = [...document.querySelectorAll('[data-testid="audit-row"]')];
        return rows.length > 0 && rows.every((r) => r.dataset.kind === k);
      },
      kind,
      { timeout: T },
    );
    const kinds = await page.getByTestId('audit-row').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.kind))]);
    assert.deepEqual(kinds, [kind]);
    await shot('audit');
    await go('#/logs');
    await page.getByTestId('log-line').first().waitFor({ timeout: T });
    await page.getByTestId('logs-level').selectOption('WARN');
    await page.waitForFunction(() => location.hash.includes('level=WARN'), null, { timeout: T });
    const levels = await page.getByTestId('log-line').evaluateAll((els) => els.map((e) => e.dataset.level));
    assert.ok(levels.every((l) => l === 'WARN' || l === 'ERROR' || l === ''), `levels shown: ${levels}`);
    await page.getByTestId('logs-level').selectOption('TRACE');
    await page.getByTestId('logs-pause').click();
    await page.waitForFunction(() => location.hash.includes('paused=1'), null, { timeout: T });
    await shot('logs');
  });

  it('an unknown route shows Not found (not Sessions); ? opens the keyboard help', async () => {
    await go('#/no-such-page');
    await page.getByTestId('not-found').waitFor({ timeout: T });
    assert.match(await page.getByTestId('not-found').textContent(), /no-such-page/);
    await page.locator('body').press('?');
    await page.getByTestId('keyboard-help').waitFor({ timeout: T });
    await page.keyboard.press('Escape');
    await page.getByTestId('keyboard-help').waitFor({ state: 'detached', timeout: T });
  });

  it('no uncaught page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe('Login throttle in a browser', { concurrency: false }, () => {
  let srv, br;
  before(async () => {
    srv = await startServer({ MICROCLAW_AUTH__LOGIN_MAX_ATTEMPTS: '2', MICROCLAW_AUTH__LOGIN_WINDOW_SECONDS: '20' });
    br = await launchBrowser();
  });
  after(async () => {
    await br?.close();
    await srv?.stop();
  });

  it('counts the Retry-After down and blocks the button meanwhile', async () => {
    const token = new URL(srv.setupUrl.replace('#/setup?', 'x?')).searchParams.get('token');
    const set = await fetch(`${srv.url}/api/auth/password`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-setup-token': token }, body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(set.status, 200);
    const p = await br.newPage();
    await p.goto(`${srv.url}/#/login`);
    for (let i = 0; i < 3; i++) {
      await p.getByTestId('login-password').fill(`wrong password ${i}!`);
      await p.getByTestId('login-submit').click();
      await p.getByTestId('login-error').waitFor({ timeout: T });
      if (await p.getByTestId('login-wait').count()) break;
    }
    const first = Number(await p.getByTestId('login-wait').textContent({ timeout: T }));
    assert.ok(first > 1 && first <= 20, `Retry-After shown: ${first}`);
    assert.equal(await p.getByTestId('login-submit').isDisabled(), true);
    await p.waitForFunction((n) => Number(document.querySelector('[data-testid="login-wait"]')?.textContent) < n, first, { timeout: 3000 });
  });
});
