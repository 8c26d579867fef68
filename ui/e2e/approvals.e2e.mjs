// End-to-end (issue 12): an agent backed by a real OpenAI-compatible test server (Node HTTP,
// SSE) asks for `run_command`; the approval overlay appears on whatever page is open, shows the
// exact command, and "Allow once" lets it run — the command's output reaches the model and the
// reply comes back. Then the waiting state in the transcript and on the Approvals page's
// "Now running", Kill from there, and the history.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer } from './server.mjs';
import { completeSetup, launchBrowser } from './browser.mjs';

const PASSWORD = 'e2e approvals password';
const T = 15_000;

let server, browser, page, provider;
const seen = [];
const pageErrors = [];

/** Asks for the tool named in a `tool:<name> <json>` user message; answers with the tool's result. */
function startProvider() {
  return new Promise((resolveStart) => {
    const srv = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const body = JSON.parse(raw || '{}');
        seen.push(body);
        const msgs = body.messages ?? [];
        const last = msgs[msgs.length - 1] ?? {};
        const events = [];
        if (last.role === 'tool') {
          events.push({ choices: [{ index: 0, delta: { content: `tool said: ${last.content}` }, finish_reason: null }] });
          events.push({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
        } else {
          const m = /^tool:(\S+) (.*)$/s.exec(String(last.content ?? ''));
          const call = { index: 0, id: 'call_1', type: 'function', function: { name: m?.[1] ?? 'none', arguments: m?.[2] ?? '{}' } };
          events.push({ choices: [{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }] });
          events.push({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
        res.end('data: [DONE]\n\n');
      });
    });
    srv.listen(0, '127.0.0.1', () => resolveStart(srv));
  });
}

/** Starts `/api/send` in the page without waiting (it answers when the run ends). */
async function startSend(key, message) {
  await page.evaluate(([k, m]) => {
    const csrf = decodeURIComponent(/(?:^|;\s*)mc_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
    window.__sends = window.__sends ?? {};
    window.__sends[k] = fetch('/api/send', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ session_key: k, message: m }) })
      .then(async (r) => ({ status: r.status, json: await r.json().catch(() => null) }));
  }, [key, message]);
}
const sendResult = (key) => page.evaluate((k) => window.__sends[k], key);
const toolResults = () => seen.flatMap((b) => (b.messages ?? []).filter((m) => m.role === 'tool').map((m) => String(m.content)));

describe('Approvals', { concurrency: false }, () => {
  before(async () => {
    provider = await startProvider();
    const base = `http://127.0.0.1:${provider.address().port}/v1`;
    const config = `[agents]\ndefault = "ops"\n[agents.ops]\nkind = "openai"\nbase_url = "${base}"\nmodel = "test-model"\ntools = ["run_command"]\n`;
    server = await startServer({}, 30_000, config);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await completeSetup(page, server, PASSWORD, T);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    provider?.close();
  });

  it('resolves an approval from the overlay and the output reaches the model', async () => {
    await page.getByTestId('nav-metrics').click();
    await startSend('e2e-approve', 'tool:run_command {"command":"echo from-the-overlay"}');
    const overlay = page.getByTestId('approval-overlay');
    await overlay.waitFor({ timeout: T });
    assert.equal(await page.getByTestId('approval-command').textContent(), 'echo from-the-overlay');
    assert.match(await overlay.textContent(), /e2e-approve/);
    assert.match(await page.getByTestId('approval-time-left').textContent(), /(29|30)m .*left/);
    assert.equal(toolResults().length, 0, 'nothing ran before the decision');
    await page.getByTestId('approval-allow-once').click();
    await overlay.waitFor({ state: 'detached', timeout: T });
    const res = await sendResult('e2e-approve');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.match(res.json.response, /tool said: .*from-the-overlay/);
    assert.ok(toolResults().some((t) => t.includes('from-the-overlay')), toolResults().join('\n'));
  });

  it('shows the waiting run in the transcript and in Now running, and Kill stops it', async () => {
    await startSend('e2e-kill', 'tool:run_command {"command":"echo never"}');
    await page.getByTestId('approval-overlay').waitFor({ timeout: T });
    await page.getByTestId('approval-later').click();
    await page.evaluate(() => (location.hash = '#/sessions?key=e2e-kill'));
    await page.getByTestId('run-waiting').filter({ hasText: 'echo never' }).waitFor({ timeout: T });
    await page.getByTestId('nav-approvals').click();
    await page.getByTestId('pending-row').filter({ hasText: 'echo never' }).waitFor({ timeout: T });
    const row = page.locator('[data-testid="run-row"][data-waiting="yes"]');
    await row.waitFor({ timeout: T });
    assert.match(await row.textContent(), /e2e-kill.*run_command.*waiting for approval/s);
    await row.getByTestId('run-kill').click();
    await page.getByTestId('runs-empty').waitFor({ timeout: T });
    await page.getByTestId('pending-empty').waitFor({ timeout: T });
    const res = await sendResult('e2e-kill');
    assert.equal(res.status, 409, JSON.stringify(res.json));
    const hist = page.getByTestId('history-row');
    await hist.filter({ hasText: 'cancelled (run stopped)' }).waitFor({ timeout: T });
    await hist.filter({ hasText: 'allowed once' }).waitFor({ timeout: T });
    assert.ok(!toolResults().some((t) => t.includes('never')), 'the killed run never ran its command');
    // The killed run stays in the transcript as stopped, not as a normal reply.
    await page.evaluate(() => (location.hash = '#/sessions?key=e2e-kill'));
    await page.getByTestId('run-aborted').first().waitFor({ timeout: T });
    assert.equal(await page.getByTestId('run-waiting').count(), 0);
    assert.deepEqual(pageErrors, []);
  });
});
