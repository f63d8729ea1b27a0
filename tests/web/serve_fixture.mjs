// Shared by the browser tests (ui_test.mjs, firefox_test.mjs): command line arguments,
// small helpers, and a real `sluice serve` with a configured admin token, fed with a
// capture of the last hour (synthetic IPFIX from sluice-blast, two exporters) and a real
// exporter's capture with its own old times, replayed with `sluice replay`.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function parseArgs(argv) {
  const args = {};
  for (let idx = 0; idx < argv.length; idx += 2) args[argv[idx].replace(/^--/, '')] = argv[idx + 1];
  for (const required of ['sluice', 'blast', 'web-dir', 'source-dir', 'out']) {
    if (!args[required]) throw new Error(`missing --${required}`);
  }
  return args;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

export async function waitFor(predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Splits the UI's shell-quoted command line ('...' quoting only, as the API writes it).
export function shellSplit(line) {
  const words = [];
  let word = null;
  for (let idx = 0; idx < line.length; idx += 1) {
    const c = line[idx];
    if (c === "'") {
      const end = line.indexOf("'", idx + 1);
      word = (word ?? '') + line.slice(idx + 1, end);
      idx = end;
    } else if (c === '\\' && line[idx + 1] === "'") {
      word = (word ?? '') + "'";
      idx += 1;
    } else if (c === ' ') {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

// Records failed checks under the current step, and logs with the seconds since start.
export function makeReporter() {
  const started = Date.now();
  const reporter = {
    step: 'setup',
    failures: [],
    check(condition, message) {
      if (!condition) {
        reporter.failures.push(`${reporter.step}: ${message}`);
        console.error(`FAIL ${reporter.step}: ${message}`);
      }
    },
    fail(error) {
      reporter.failures.push(`${reporter.step}: ${error.stack ?? error}`);
      console.error(`FAIL ${reporter.step}: ${error.stack ?? error}`);
    },
    log(message) {
      console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
    },
  };
  return reporter;
}

// Empties outDir, starts `sluice serve` on free ports in a temporary directory (its stderr
// goes to outDir/serve.err) and resolves once it is ready. stop() ends it and removes the
// temporary directory.
export async function startServe(args, outDir, prefix) {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dataDir = path.join(work, 'data');
  const adminToken = `ui-test-${randomBytes(16).toString('hex')}`;
  const configFile = path.join(work, 'serve.toml');
  // Every flow gets a subscriber and site from a catch-all prefix map, so that the host
  // page has a mapping to show.
  const prefixMap = path.join(work, 'subscribers.csv');
  fs.writeFileSync(prefixMap, 'prefix,subscriber_id,nas_id\n0.0.0.0/0,all-v4,site-v4\n::/0,all-v6,site-v6\n');
  fs.writeFileSync(configFile, `[http]\nadmin_token = "${adminToken}"\n\n[enrichment]\nprefix_map = "${prefixMap}"\n`);
  const httpPort = await freePort();
  const readyFile = path.join(work, 'ready');
  const serveErr = fs.openSync(path.join(outDir, 'serve.err'), 'w');
  const serve = spawn(args.sluice, ['serve', '--config', configFile, '--data', dataDir, '--listen', '127.0.0.1:0',
    '--http', `127.0.0.1:${httpPort}`, '--ready-file', readyFile, '--stats-interval', '0', '--flush-interval', '1s'],
  { stdio: ['ignore', 'ignore', serveErr] });
  const exited = new Promise((resolve) => serve.once('exit', resolve));
  const stop = async () => {
    serve.kill('SIGTERM');
    await exited;
    fs.rmSync(work, { recursive: true, force: true });
  };
  try {
    await waitFor(() => fs.existsSync(readyFile) && fs.readFileSync(readyFile, 'utf8').endsWith('\n'), 'sluice serve to be ready');
  } catch (error) {
    await stop();
    throw error;
  }
  const udp = fs.readFileSync(readyFile, 'utf8').split('\n')[0];
  return { work, dataDir, adminToken, udp, base: `http://127.0.0.1:${httpPort}`, stop };
}

// Replays the captures into the serve and waits until the store holds every flow; returns
// how many that is.
export async function replayCaptures(args, serve) {
  // 50 minutes of flows ending 5 minutes ago.
  const now = Date.now();
  const capture = path.join(serve.work, 'recent.pcap');
  run(args.blast, ['--write-pcap', capture, '--protocol', 'ipfix', '--rate', '10', '--flows', '30000',
    '--exporters', '2', '--start-ms', String(now - 55 * 60e3), '--seed', '7']);
  const oldCapture = path.join(path.resolve(args['source-dir']), '..', 'shared', 'testdata', 'flows', 'akvorado', 'netflow', 'nfv5.pcap');
  const captures = [capture, ...(fs.existsSync(oldCapture) ? [oldCapture] : [])];
  const decoded = run(args.sluice, ['decode', ...captures]).split('\n').filter(Boolean).length;
  run(args.sluice, ['replay', '--to', serve.udp, ...captures]);
  const allTime = '1970-01-01T00:00:00Z/2100-01-01T00:00:00Z';
  await waitFor(() => {
    const summary = JSON.parse(run(args.sluice, ['query', '--data', serve.dataDir, '-t', allTime, '-o', 'json'])).summary;
    return summary.flows >= decoded;
  }, `${decoded} flows in the store`);
  return decoded;
}

// The window (epoch ms) the page's range shows, and it as a `sluice query -t` argument.
export const RANGE_SHOWN = () => {
  const shown = document.querySelector('.range-shown');
  return { from: Number(shown.dataset.from), to: Number(shown.dataset.to) };
};
export const windowArg = (w) => `${new Date(Math.floor(w.from)).toISOString()}/${new Date(Math.floor(w.to)).toISOString()}`;

// In the page: each chart's series labels and the sums of its columns, as uPlot holds them.
export const CHART_DATA = () => [...document.querySelectorAll('[data-chart]')].map((slot) => {
  const chart = slot.uplot;
  if (!chart) return { name: slot.dataset.chart, rendered: false };
  return {
    name: slot.dataset.chart,
    rendered: Boolean(slot.querySelector('canvas')),
    labels: chart.series.slice(1).map((s) => s.label),
    sums: chart.data.slice(1).map((column) => column.reduce((a, b) => a + (b ?? 0), 0)),
    first: chart.data[0][0],
    last: chart.data[0][chart.data[0].length - 1],
    step: chart.data[0].length > 1 ? chart.data[0][1] - chart.data[0][0] : 0,
  };
});
