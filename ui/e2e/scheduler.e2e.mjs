// End-to-end (issue 14): the Scheduler page against a real `microclaw start` — next fire times
// previewed as a cron expression is typed (and a bad one named inline), a job added, disabled and
// enabled, run now with its run history, a failing run dead-lettered and shown in the DLQ, replay
// (failing, then succeeding once the job is fixed), discard, delete, and a read-only key refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { completeSetup, launchBrowser } from './browser.mjs';

const shots = process.env.SCREENSHOT_DIR || resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
const PASSWORD = 'e2e scheduler password';
const T = 15_000;

let server, browser, page;
const pageErrors = [];

async function go(hash) {
  await page.evaluate((h) => (location.hash = h), hash);
}
/** A call to the API with the page's cookie and CSRF token. */
async function api(method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = decodeURIComponent(/(?:^|;\s*)mc_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
    const r = await fetch(p, { method: m, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, json: await r.json().catch(() => null) };
  }, [method, path, body]);
}
const row = (name) => page.getByTestId('job-row').filter({ hasText: name });

describe('Scheduler page', { concurrency: false }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    await completeSetup(page, server, PASSWORD, T);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('previews fire times as the expression is typed and adds a cron job', async () => {
    await page.getByTestId('nav-scheduler').click();
    await page.getByTestId('jobs-empty').waitFor({ timeout: T });
    await page.getByTestId('job-add').click();
    await page.getByTestId('job-name').fill('weekday morning');
    await page.getByTestId('job-expr').fill('61 * * * *');
    await page.getByTestId('preview-error').filter({ hasText: 'schedule.expr' }).waitFor({ timeout: T });
    await page.getByTestId('job-expr').fill('30 8 * * 1-5');
    await page.getByTestId('job-tz').fill('Mars/Base');
    await page.getByTestId('preview-error').filter({ hasText: 'IANA' }).waitFor({ timeout: T });
    await page.getByTestId('job-tz').fill('Europe/Berlin');
    await page.locator('[data-testid="preview-list"] li').nth(4).waitFor({ timeout: T });
    const times = await page.locator('[data-testid="preview-list"] li').allTextContents();
    assert.equal(times.length, 5);
    await page.getByTestId('job-message').fill('/echo good morning');
    await page.getByTestId('job-save').click();
    await row('weekday morning').waitFor({ timeout: T });
    assert.match(await row('weekday morning').textContent(), /cron 30 8 \* \* 1-5 \(Europe\/Berlin\)/);
    assert.match(await row('weekday morning').getByTestId('job-status').textContent(), /never run/);
  });

  it('disables and enables a job; runs it now and shows its history', async () => {
    const r = row('weekday morning');
    await r.getByTestId('job-toggle').click();
    await r.getByTestId('job-next').filter({ hasText: 'disabled' }).waitFor({ timeout: T });
    const listed = await api('GET', '/api/scheduler/jobs?enabled=all');
    assert.equal(listed.json.jobs[0].enabled, false);
    await r.getByTestId('job-toggle').click();
    await r.getByTestId('job-next').filter({ hasNotText: 'disabled' }).waitFor({ timeout: T });
    await r.getByTestId('job-run').click();
    await page.getByTestId('run-history').waitFor({ timeout: T });
    await page.getByTestId('run-status').filter({ hasText: 'ok' }).first().waitFor({ timeout: T });
    await r.getByTestId('job-status').filter({ hasText: 'ok' }).waitFor({ timeout: T });
  });

  it('dead-letters a failing run, replays it (failing, then fixed) and discards another', async () => {
    await page.getByTestId('job-add').click();
    await page.getByTestId('job-name').fill('flaky');
    await page.getByTestId('job-kind').selectOption('every');
    await page.getByTestId('job-every').fill('6');
    await page.getByTestId('job-every-unit').selectOption('h');
    await page.locator('[data-testid="preview-list"] li').first().waitFor({ timeout: T });
    await page.getByTestId('job-message').fill('/fail');
    await page.getByTestId('job-attempts').fill('1');
    await page.getByTestId('job-save').click();
    await row('flaky').waitFor({ timeout: T });
    assert.match(await row('flaky').textContent(), /every 6 hours/);
    await row('flaky').getByTestId('job-run').click();
    const dlqRow = page.getByTestId('dlq-row');
    await dlqRow.first().waitFor({ timeout: T });
    assert.match(await dlqRow.first().getByTestId('dlq-error').textContent(), /simulated failure/);
    assert.match(await dlqRow.first().textContent(), /flaky/);
    // Replaying the unchanged job fails again: the item stays open with one more attempt.
    await dlqRow.first().getByTestId('dlq-replay').click();
    await dlqRow.first().filter({ hasText: /open/ }).locator('td:nth-child(4)').filter({ hasText: '2' }).waitFor({ timeout: T });
    mkdirSync(shots, { recursive: true });
    await page.evaluate(() => document.querySelectorAll('[data-testid="toasts"] button').forEach((b) => b.click()));
    await page.screenshot({ path: resolve(shots, 'scheduler.png'), fullPage: true });
    // Fix the job, replay: the DLQ empties and the history shows the replay ok.
    await row('flaky').getByTestId('job-edit').click();
    await page.getByTestId('job-message').fill('/echo fixed');
    await page.getByTestId('job-save').click();
    await page.getByTestId('job-form').waitFor({ state: 'detached', timeout: T });
    await dlqRow.first().getByTestId('dlq-replay').click();
    await dlqRow.first().waitFor({ state: 'detached', timeout: T });
    await row('flaky').getByTestId('job-open').click();
    await page.getByTestId('run-row').filter({ hasText: 'replay' }).filter({ hasText: 'ok' }).first().waitFor({ timeout: T });
    // Break it again, run, discard.
    const upd = await api('PATCH', `/api/scheduler/jobs/${await row('flaky').getAttribute('data-job-id')}`, { payload: { message: '/fail' } });
    assert.equal(upd.status, 200, JSON.stringify(upd.json));
    await row('flaky').getByTestId('job-run').click();
    await dlqRow.first().waitFor({ timeout: T });
    await dlqRow.first().getByTestId('dlq-discard').click();
    await dlqRow.first().waitFor({ state: 'detached', timeout: T });
    const all = await api('GET', '/api/scheduler/dlq?includeResolved=true');
    assert.deepEqual(all.json.items.map((i) => i.status).sort(), ['discarded', 'replayed']);
  });

  it('shows the refusal when the key lacks admin, and deletes with admin', async () => {
    const created = await api('POST', '/api/auth/api_keys', { label: 'reader', scopes: ['operator.read'] });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.addInitScript((t) => (window.__MICROCLAW_LAUNCH_TOKEN__ = t), created.json.api_key);
    const reader = await ctx.newPage();
    reader.on('pageerror', (e) => pageErrors.push(String(e)));
    reader.on('dialog', (d) => d.accept());
    await reader.goto(`${server.url}/#/scheduler`);
    const readerRow = reader.getByTestId('job-row').filter({ hasText: 'weekday morning' });
    await readerRow.waitFor({ timeout: T });
    await readerRow.getByTestId('job-run').click();
    await reader.getByTestId('sched-action-error').filter({ hasText: /operator\.admin/ }).waitFor({ timeout: T });
    await readerRow.getByTestId('job-delete').click();
    await reader.getByTestId('sched-action-error').filter({ hasText: /Could not delete weekday morning/ }).waitFor({ timeout: T });
    assert.equal(await reader.getByTestId('job-row').count(), 2);
    await ctx.close();

    await row('weekday morning').getByTestId('job-delete').click();
    await row('weekday morning').waitFor({ state: 'detached', timeout: T });
    assert.equal(await page.getByTestId('job-row').count(), 1);
    assert.deepEqual(pageErrors, []);
  });
});
