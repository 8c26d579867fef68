// End-to-end (issue 13): the Cost page against a real `microclaw start` with a price for the
// built-in agent's model — runs' tokens and cost per day stacked by model, by agent, top
// sessions, the CSV export, budget bars with their reset time, a bad budget value named
// inline, and a cap saved from the page refusing the next run (BUDGET_EXCEEDED).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { completeSetup, launchBrowser } from './browser.mjs';

const shots = process.env.SCREENSHOT_DIR || resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
const PASSWORD = 'e2e cost password';
const T = 15_000;

let server, browser, page;
const pageErrors = [];

async function api(method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = decodeURIComponent(/(?:^|;\s*)mc_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
    const r = await fetch(p, { method: m, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, json: await r.json().catch(() => null) };
  }, [method, path, body]);
}

describe('Cost page', { concurrency: false }, () => {
  before(async () => {
    server = await startServer({
      // The built-in agent's model priced at $2 / $10 per million tokens.
      'MICROCLAW_PRICING__builtin-operator': '{ input_per_mtok = 2.0, output_per_mtok = 10.0 }',
    });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await completeSetup(page, server, PASSWORD, T);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows tokens and cost per day by model, by agent and the top sessions', async () => {
    for (const [session, text] of [['cost-big', 'x'.repeat(800)], ['cost-small', 'hello'], ['cost-big', 'y'.repeat(400)]]) {
      const r = await api('POST', '/api/send', { session_key: session, message: `/echo ${text}` });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    await page.getByTestId('nav-cost').click();
    await page.getByTestId('cost-total-runs').filter({ hasText: '3' }).waitFor({ timeout: T });
    const usage = await api('GET', '/api/usage?days=30');
    assert.equal(usage.json.totals.runs, 3);
    assert.ok(usage.json.totals.totalCost > 0, JSON.stringify(usage.json.totals));
    const tokens = await page.getByTestId('cost-total-tokens').textContent();
    assert.equal(tokens.replace(/,/g, ''), String(usage.json.totals.totalTokens));
    assert.match(await page.getByTestId('cost-total-usd').textContent(), /^\$0\.\d{4}$/);
    const chart = page.getByTestId('cost-chart-tokens');
    await chart.locator('canvas').waitFor({ timeout: T });
    assert.equal(await chart.getAttribute('data-has-data'), 'true');
    assert.equal(await chart.getAttribute('data-models'), 'builtin-operator');
    assert.equal(await page.getByTestId('cost-chart-usd').getAttribute('data-has-data'), 'true');
    assert.match(await page.getByTestId('cost-agent-row').first().textContent(), /builtin\s*3/);
    const sessions = await page.getByTestId('cost-session-row').allTextContents();
    assert.equal(sessions.length, 2);
    assert.match(sessions[0], /^cost-big/, 'the session with the most tokens first');
  });

  it('exports the same days as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('cost-export').click()]);
    assert.equal(download.suggestedFilename(), 'microclaw-usage-30d.csv');
    const text = readFileSync(await download.path(), 'utf8');
    const lines = text.trim().split('\r\n');
    assert.match(lines[0], /^date,agent_id,model,runs,input_tokens,output_tokens,total_tokens,cost_usd/);
    assert.match(lines[1], /,builtin,builtin-operator,3,/);
  });

  it('edits budgets: a bad value is named, a saved cap shows use and reset, and refuses the next run', async () => {
    await page.getByTestId('budgets-none').waitFor({ timeout: T });
    await page.getByTestId('budget-input-daily_tokens').fill('lots');
    await page.getByTestId('budget-save').click();
    await page.getByTestId('budget-error').filter({ hasText: 'Tokens per day: "lots" is not a whole number' }).waitFor({ timeout: T });
    await page.getByTestId('budget-input-daily_tokens').fill('1000000');
    await page.getByTestId('budget-input-per_run_tokens').fill('50000');
    await page.getByTestId('budget-save').click();
    const daily = page.locator('[data-testid="budget-bar"][data-name="budgets.daily_tokens"]');
    await daily.waitFor({ timeout: T });
    assert.equal(await daily.getAttribute('data-level'), 'ok');
    assert.match(await daily.getByTestId('budget-reset').textContent(), /^resets \d{4}-\d\d-\d\d 00:00 UTC/);
    const perRun = page.locator('[data-testid="budget-bar"][data-name="budgets.per_run_tokens"]');
    assert.match(await perRun.getByTestId('budget-reset').textContent(), /per run/);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: resolve(shots, 'cost.png'), fullPage: true });

    // A cap below today's use: the bar turns red and the next run is refused.
    await page.getByTestId('budget-input-daily_tokens').fill('10');
    await page.getByTestId('budget-save').click();
    await page.locator('[data-testid="budget-bar"][data-name="budgets.daily_tokens"][data-level="bad"]').waitFor({ timeout: T });
    const refused = await api('POST', '/api/send', { session_key: 'cost-small', message: '/echo again' });
    assert.equal(refused.status, 503, JSON.stringify(refused.json));
    assert.equal(refused.json.error.code, 'UNAVAILABLE');
    assert.match(refused.json.error.message, /budgets\.daily_tokens = 10/);
    const stored = await api('GET', '/api/budgets');
    assert.equal(stored.json.daily_tokens, 10);
    assert.deepEqual(pageErrors, []);
  });
});
