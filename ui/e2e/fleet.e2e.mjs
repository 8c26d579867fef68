// End-to-end (issue 16): the Gateways page of a real `microclaw start` watching a second real
// `microclaw start` — added by URL and token, probed up with its version and sessions, browsed
// (sessions, then a transcript through POST /api/gateways/{id}/call), reported down once the
// second gateway stops; the token appears nowhere in the page or the API answers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { microclawBin, startServer } from './server.mjs';
import { completeSetup, launchBrowser } from './browser.mjs';

const PASSWORD = 'e2e fleet password';
const T = 15_000;

let consoleSrv, remote, browser, page, token;
const pageErrors = [];

async function api(method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = decodeURIComponent(/(?:^|;\s*)mc_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
    const r = await fetch(p, { method: m, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, text: await r.text() };
  }, [method, path, body]);
}

describe('Gateways page', { concurrency: false }, () => {
  before(async () => {
    remote = await startServer();
    token = execFileSync(microclawBin(), ['auth', 'keys', 'create', '--label', 'fleet', '--scope', 'read', '--scope', 'write', '--quiet', '--data-dir', remote.dataDir], { encoding: 'utf8' }).trim();
    assert.match(token, /^mk_/);
    const sent = await fetch(`${remote.url}/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ session_key: 'fleet-e2e', message: 'hello from the fleet test' }),
    });
    assert.equal(sent.status, 200, await sent.text());
    consoleSrv = await startServer({ MICROCLAW_FLEET__TOKEN_STORE: 'file' });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    await completeSetup(page, consoleSrv, PASSWORD, T);
  });
  after(async () => {
    await browser?.close();
    await consoleSrv?.stop();
    await remote?.stop();
  });

  it('adds a gateway by url and token and shows it up after the local engine', async () => {
    await page.getByTestId('nav-fleet').click();
    await page.getByTestId('fleet-row-local').waitFor({ timeout: T });
    await page.getByTestId('fleet-name').fill('second');
    await page.getByTestId('fleet-url').fill(remote.url.replace(/^http/, 'ws') + '/');
    await page.getByTestId('fleet-token').fill(token);
    await page.getByTestId('fleet-submit').click();
    const row = page.locator('[data-testid^="fleet-row-"]').filter({ hasText: 'second' });
    await row.getByTestId('fleet-status').filter({ hasText: 'up' }).waitFor({ timeout: T });
    const text = await row.textContent();
    assert.match(text, /microclaw/);
    assert.match(text, /\(p4\)/);
    const ids = await page.locator('[data-testid^="fleet-row-"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
    assert.equal(ids[0], 'fleet-row-local', 'the local engine is first');
    assert.equal(await page.getByTestId('fleet-token').inputValue(), '', 'the token field is cleared');
  });

  it('browses the remote sessions and a transcript through the call route', async () => {
    const row = page.locator('[data-testid^="fleet-row-"]').filter({ hasText: 'second' });
    await row.getByTestId('fleet-open').click();
    await page.getByTestId('fleet-session').filter({ hasText: 'fleet-e2e' }).first().getByRole('button').click();
    await page.getByTestId('fleet-message').filter({ hasText: 'hello from the fleet test' }).waitFor({ timeout: T });
  });

  it('reports the remote down once it stops; the token is in no answer or page', async () => {
    await remote.stop();
    remote = null;
    const row = page.locator('[data-testid^="fleet-row-"]').filter({ hasText: 'second' });
    await row.getByTestId('fleet-probe').click();
    await row.getByTestId('fleet-status').filter({ hasText: 'down' }).waitFor({ timeout: T });
    const listed = await api('GET', '/api/gateways');
    assert.equal(listed.status, 200);
    assert.ok(!listed.text.includes(token), 'GET /api/gateways carries the token');
    assert.ok(!(await page.content()).includes(token), 'the page carries the token');
    const logs = await api('GET', '/api/logs?limit=5000');
    assert.ok(!logs.text.includes(token), 'the log carries the token');
    assert.deepEqual(pageErrors, []);
  });
});
