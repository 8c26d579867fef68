// Starts a real `microclaw start --port 0` on a temp data dir and reads its URLs from stdout.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));

export function microclawBin() {
  const bin = process.env.MICROCLAW_BIN || resolve(here, '../../target/debug/microclaw');
  if (!existsSync(bin)) {
    throw new Error(`microclaw binary not found at ${bin}: build it (cargo build -p microclaw-cli) or set MICROCLAW_BIN`);
  }
  return bin;
}

/**
 * @param {Record<string,string>} env extra environment (config overrides MICROCLAW_<SECTION>__<KEY>)
 * @param {number} timeoutMs how long to wait for the URL
 * @param {string|null} configToml written to `<data-dir>/microclaw.toml` before the start
 * @param {Record<string,string>} files more files written into the data dir before the start (e.g. `slos.toml`)
 * @returns {Promise<{url: string, setupUrl: string|null, dataDir: string, stop: () => Promise<void>, output: string[]}>}
 */
export async function startServer(env = {}, timeoutMs = 30_000, configToml = null, files = {}) {
  const bin = microclawBin();
  const dataDir = mkdtempSync(join(tmpdir(), 'microclaw-e2e-'));
  // Optional config file (the default `<data-dir>/microclaw.toml`), e.g. an agent table.
  if (configToml) writeFileSync(join(dataDir, 'microclaw.toml'), configToml);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dataDir, name), text);
  const child = spawn(bin, ['start', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stderr.on('data', (d) => output.push(String(d)));
  const lines = createInterface({ input: child.stdout });
  let url = null;
  let setupUrl = null;
  const ready = new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print its URL within ${timeoutMs} ms:\n${output.join('')}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`microclaw exited early (${code}):\n${output.join('')}`));
    });
    let grace = null;
    const done = () => {
      clearTimeout(timer);
      clearTimeout(grace);
      resolveReady();
    };
    lines.on('line', (line) => {
      output.push(line + '\n');
      const m = /^listening on (http:\/\/\S+)/.exec(line);
      const s = /(http:\/\/\S+#\/setup\?token=\S+)/.exec(line);
      if (s) setupUrl = s[1];
      if (m) {
        url = m[1].replace(/\/$/, '');
        // On a first run the setup URL follows on the next line.
        grace = setTimeout(done, 1500);
      }
      if (url && setupUrl) done();
    });
  });
  await ready;
  return {
    url,
    setupUrl,
    dataDir,
    output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => { child.kill('SIGKILL'); r(); }, 10_000);
          child.once('exit', () => { clearTimeout(t); r(); });
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
