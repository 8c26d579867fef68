// End-to-end (issue 17's last items): message search with its snippet, transcript export as
// Markdown and JSON, the fork tree paged, and the Audit page's chain verification — which turns
// to "broken" after a row is edited in the real database file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './server.mjs';
import { completeSetup, launchBrowser } from './browser.mjs';

const PASSWORD = 'e2e sessions audit password';
const T = 15_000;
const WORD = 'zanzibarite';

let server, browser, page;
const pageErrors = [];

async function go(hash) {
  await page.evaluate((h) => (location.hash = h), hash);
}
async function send(text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Control+Enter');
}
/** A write through the API with the page's cookie and CSRF token. */
async function post(path, body) {
  return page.evaluate(async ([p, b]) => {
    const csrf = decodeURIComponent(/(?:^|;\s*)mc_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
    const r = await fetch(p, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(b) });
    return { status: r.status, body: await r.text() };
  }, [path, body]);
}
/** Runs SQL on the server's database file (sqlite3 CLI, else Python's sqlite3). */
function sql(statement) {
  const db = join(server.dataDir, 'microclaw.db');
  try {
    execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, statement], { stdio: 'pipe' });
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
    execFileSync('python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=5); c.execute(sys.argv[2]); c.commit()', db, statement], { stdio: 'pipe' });
  }
}

describe('Sessions search, export, tree pages; Audit chain', { concurrency: false }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    await completeSetup(page, server, PASSWORD, T);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a word from a message finds its session, with the matching text under the row', async () => {
    for (const [key, text] of [['e2e-find-me', `the ${WORD} sample is in crate seven`], ['e2e-other', 'nothing special here']]) {
      await go(`#/sessions?key=${key}`);
      await page.getByTestId('composer').waitFor({ timeout: T });
      await send(text);
      // Stored (has an id), not the pending echo.
      await page.locator('[data-testid="message"][data-role="user"][data-id]').filter({ hasText: text }).waitFor({ timeout: T });
    }
    await page.getByTestId('session-search').fill(WORD.slice(0, 6)); // a prefix finds it too
    await page.waitForFunction(() => location.hash.includes('q=zanzib'), null, { timeout: T });
    const row = page.locator('[data-testid="session-row"][data-key="e2e-find-me"]');
    await row.getByTestId('session-snippet').waitFor({ timeout: T });
    assert.equal(await page.getByTestId('session-row').count(), 1, 'only the session whose message has the word');
    assert.match(await row.getByTestId('session-snippet').textContent(), new RegExp(`${WORD} sample`));
    assert.equal(await row.locator('[data-testid="session-snippet"] mark').first().textContent(), 'zanzib', 'the searched prefix is marked');
    // A key match (no message hit) shows the preview, not a snippet.
    await page.getByTestId('session-search').fill('e2e-other');
    await page.locator('[data-testid="session-row"][data-key="e2e-other"]').waitFor({ timeout: T });
    assert.equal(await page.getByTestId('session-snippet').count(), 0);
  });

  it('exports the transcript as Markdown and as JSON', async () => {
    await go('#/sessions?key=e2e-find-me');
    await page.getByTestId('export-md').waitFor({ timeout: T });
    const [md] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.getByTestId('export-md').click()]);
    assert.equal(md.suggestedFilename(), 'e2e-find-me.md');
    const text = readFileSync(await md.path(), 'utf8');
    assert.match(text, /^# e2e-find-me/);
    assert.match(text, new RegExp(`## user · .*\\n+the ${WORD} sample`));
    const [js] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.getByTestId('export-json').click()]);
    assert.equal(js.suggestedFilename(), 'e2e-find-me.json');
    const doc = JSON.parse(readFileSync(await js.path(), 'utf8'));
    assert.equal(doc.complete, true);
    assert.equal(doc.session.key, 'e2e-find-me');
    assert.ok(doc.messages.some((m) => m.role === 'user' && m.text.includes(WORD)), JSON.stringify(doc.messages));
  });

  it('pages the fork tree; a page inside a subtree names where it continues', async () => {
    // 120 forks of e2e-find-me + the 2 sessions = 122 rows: pages of 100.
    for (let i = 0; i < 120; i++) {
      const r = await post('/api/sessions/fork', { source_session_key: 'e2e-find-me', target_session_key: `e2e-fork-${String(i).padStart(3, '0')}` });
      assert.equal(r.status, 200, r.body);
    }
    await go('#/sessions?view=tree');
    await page.getByTestId('tree-total').filter({ hasText: '1 / 2' }).waitFor({ timeout: T });
    assert.equal(await page.getByTestId('tree-node').count(), 100);
    assert.match(await page.getByTestId('tree-total').textContent(), /122 sessions/);
    await page.getByTestId('tree-next').click();
    await page.waitForFunction(() => location.hash.includes('tp=2'), null, { timeout: T });
    await page.getByTestId('tree-total').filter({ hasText: '2 / 2' }).waitFor({ timeout: T });
    assert.equal(await page.getByTestId('tree-node').count(), 22);
    assert.match(await page.getByTestId('tree-continues').textContent(), /continued: e2e-find-me/);
    // The page is in the URL: a reload shows the same page.
    await page.reload();
    await page.getByTestId('tree-total').filter({ hasText: '2 / 2' }).waitFor({ timeout: T });
    // Without a page in the URL the tree opens where the selected session is.
    await go('#/sessions?view=tree&key=e2e-fork-119');
    await page.locator('[data-testid="tree-node"][data-key="e2e-fork-119"]').waitFor({ timeout: T });
    assert.match(await page.getByTestId('tree-total').textContent(), /^2 \/ 2/);
  });

  it('Audit shows the chain intact, then broken at the row edited in the database file', async () => {
    await go('#/audit');
    const chain = page.getByTestId('audit-chain');
    await page.locator('[data-testid="audit-chain"][data-state="intact"]').waitFor({ timeout: T });
    assert.match(await chain.textContent(), /chain intact.*All \d+ entries verified/s);
    const id = await page.getByTestId('audit-row').last().locator('td').first().textContent();
    sql(`UPDATE audit_log SET actor = 'someone else' WHERE id = ${Number(id)}`);
    await page.getByTestId('audit-verify').click();
    await page.locator('[data-testid="audit-chain"][data-state="broken"]').waitFor({ timeout: T });
    assert.match(await page.getByTestId('audit-chain-reason').textContent(), new RegExp(`audit chain broken at id ${Number(id)}\\b`));
  });

  it('no uncaught page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
