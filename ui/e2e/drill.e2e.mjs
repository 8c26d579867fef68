// End-to-end (issue 15): the runbook's burn drill against a real `microclaw start` — failing
// runs fire a page alert (an SLO file in the data dir lets 3 samples page at once), the Alerts
// page shows it firing with its burn rates, the freeze banner appears on every page, a frozen
// config change is refused (423) and then overridden with a reason, the incident gets an owner,
// a note and a rollback, is resolved, and its postmortem is exported as Markdown.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer } from './server.mjs';
import { completeSetup, launchBrowser } from './browser.mjs';

const PASSWORD = 'e2e drill password';
const T = 20_000;
const SLOS = `[[slo]]
name = "request_success_rate"
objective = 0.995
sli = "request_success"
min_samples = 3

[[slo.alert]]
long = "1h"
short = "5m"
factor = 14.4
severity = "page"
for = "0m"
keep_firing_for = "0m"
`;

let server, browser, page;
const pageErrors = [];

async function go(hash) {
  await page.evaluate((h) => (location.hash = h), hash);
}
async function api(method, path, body, headers = {}) {
  return page.evaluate(async ([m, p, b, h]) => {
    const csrf = decodeURIComponent(/(?:^|;\s*)mc_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
    const r = await fetch(p, { method: m, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, ...h }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, json: await r.json().catch(() => null) };
  }, [method, path, body, headers]);
}

describe('Burn drill', { concurrency: false }, () => {
  before(async () => {
    server = await startServer({ MICROCLAW_METRICS__FLUSH_INTERVAL_SECONDS: '1' }, 30_000, null, { 'slos.toml': SLOS });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await completeSetup(page, server, PASSWORD, T);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a config change before the burn becomes a version', async () => {
    const r = await api('PUT', '/api/config', { auth: { login_window_seconds: 120 } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.version, 2);
  });

  it('failing runs fire the page alert, shown on the Alerts page with its burn rates', async () => {
    await go('#/alerts');
    await page.getByTestId('alert-rule').first().waitFor({ timeout: T });
    assert.equal(await page.locator('[data-testid="alert-rule"][data-state="firing"]').count(), 0);
    for (let i = 0; i < 4; i++) {
      const r = await api('POST', '/api/send', { session_key: 'drill', message: '/fail' });
      assert.equal(r.status, 500, JSON.stringify(r.json));
    }
    const firing = page.locator('[data-testid="alert-rule"][data-state="firing"]');
    await firing.first().waitFor({ timeout: T });
    assert.match(await firing.first().textContent(), /request_success_rate.*1h\/5m.*page.*firing/s);
    await page.getByTestId('alert-transition').filter({ hasText: 'firing' }).first().waitFor({ timeout: T });
    // The SLO detail view: objective, budget, burn table with the rule above its threshold.
    await go('#/alerts?slo=request_success_rate');
    await page.getByTestId('slo-detail').waitFor({ timeout: T });
    assert.match(await page.getByTestId('slo-objective').textContent(), /99\.5/);
    await page.locator('[data-testid="burn-rule"][data-state="firing"]').waitFor({ timeout: T });
    assert.match(await page.getByTestId('slo-detail-budget').textContent(), /exhausted/);
  });

  it('freezes: the banner shows on every page and a config change is refused until overridden', async () => {
    await page.getByTestId('freeze-banner').waitFor({ timeout: T });
    assert.match(await page.getByTestId('freeze-banner').textContent(), /page alert request_success_rate:page:1h\/5m is firing/);
    await go('#/sessions');
    await page.getByTestId('freeze-banner').waitFor({ timeout: T });
    const refused = await api('PUT', '/api/config', { auth: { login_window_seconds: 300 } });
    assert.equal(refused.status, 423);
    assert.equal(refused.json.error.code, 'CHANGE_FREEZE');
    assert.ok(refused.json.error.incidentId > 0);
    const ok = await api('PUT', '/api/config', { auth: { login_window_seconds: 300 } }, { 'X-Microclaw-Override': 'drill: shorter window' });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
  });

  it('the incident gets an owner, a note and a rollback, is resolved and exported', async () => {
    await page.getByTestId('freeze-incident-link').click();
    const detail = page.getByTestId('incident-detail');
    await detail.waitFor({ timeout: T });
    await page.getByTestId('incident-owner').fill('alice');
    await page.getByTestId('incident-owner-save').click();
    await page.getByTestId('timeline-entry').filter({ hasText: 'owner set to alice' }).waitFor({ timeout: T });
    await page.getByTestId('incident-note').fill('rolling back the login window');
    await page.getByTestId('incident-note-add').click();
    await page.getByTestId('timeline-entry').filter({ hasText: 'rolling back the login window' }).waitFor({ timeout: T });
    await page.locator('[data-testid="timeline-entry"][data-kind="override"]').waitFor({ timeout: T });
    // Rollback to version 2, allowed while frozen.
    await page.locator('[data-testid="config-version"][data-version="2"]').getByTestId('config-rollback').click();
    await page.getByTestId('timeline-entry').filter({ hasText: 'config rolled back to version 2' }).waitFor({ timeout: T });
    await page.getByTestId('incident-status-resolved').click();
    await page.locator('[data-testid="incident-detail"][data-status="resolved"]').waitFor({ timeout: T });
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.getByTestId('incident-export').click()]);
    assert.match(download.suggestedFilename(), /^incident-\d+-postmortem\.md$/);
    const md = readFileSync(await download.path(), 'utf8');
    assert.match(md, /^# Postmortem: SLO burn: request_success_rate/);
    assert.match(md, /- Owner: alice/);
    assert.match(md, /freeze override for PUT \/api\/config: drill: shorter window/);
    assert.match(md, /config rolled back to version 2/);
    assert.match(md, /- Status: resolved/);
    assert.deepEqual(pageErrors, []);
  });
});
