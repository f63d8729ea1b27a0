// The web dashboard in Firefox: Debian's firefox-esr driven by puppeteer-core over WebDriver
// BiDi, against a real `sluice serve` fed by replayed captures (serve_fixture.mjs, as
// ui_test.mjs does for chromium). Logs in, the overview graphs hold the flows (read from the
// rendered uPlot series and checked against `sluice query`), drag-to-zoom, the explorer runs
// a filter and shows its rows, a filter syntax error is underlined, an address links to its
// host page, and nothing in the page errors. Screenshots of every page go to --out.
//
// usage: node tests/web/firefox_test.mjs --sluice BIN --blast BIN --web-dir web/ --source-dir . --out DIR

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  CHART_DATA, RANGE_SHOWN, makeReporter, parseArgs, replayCaptures, run, shellSplit, startServe, windowArg,
} from './serve_fixture.mjs';

const args = parseArgs(process.argv.slice(2));
const FIREFOX = '/usr/bin/firefox-esr';
if (!fs.existsSync(FIREFOX)) {
  console.error(`${FIREFOX} is missing: run scripts/install-deps (Debian package firefox-esr)`);
  process.exit(1);
}
const puppeteer = createRequire(path.join(path.resolve(args['web-dir']), 'package.json'))('puppeteer-core');
const outDir = path.resolve(args.out);
const reporter = makeReporter();
const { check, log, failures } = reporter;
const serve = await startServe(args, outDir, 'sluice-firefox-test-');
const { dataDir, adminToken, base } = serve;
let browser;
let page;

try {
  log(`serve ready: UDP ${serve.udp}, HTTP ${base}`);
  const decoded = await replayCaptures(args, serve);
  log(`${decoded} flows stored`);

  browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true,
    env: { ...process.env, TZ: 'Europe/Berlin' },
  });
  log(`browser: ${await browser.version()}`);
  page = (await browser.pages())[0] ?? await browser.newPage();
  await page.setViewport({ width: 1440, height: 900 }); // launch's defaultViewport left the first tab at the window's size
  page.setDefaultTimeout(15000);
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  // The wrong token (401) and the filter syntax error (400) are meant to fail; should the
  // browser log the failed request, that is not a page error.
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (400|401) |\b(400|401)\b.*\/api\/v1\//.test(message.text())) pageErrors.push(message.text());
  });
  page.on('dialog', (dialog) => dialog.accept());
  const shot = (name) => page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
  const idle = () => page.waitForFunction(() => document.body.dataset.loading === 'false');
  const fill = (selector, value) => page.locator(selector).fill(value);
  const chartData = () => page.evaluate(CHART_DATA);

  reporter.step = 'login';
  await page.goto(`${base}/`);
  await page.waitForSelector('.login-form');
  await shot('01-login');
  await fill('input[name="token"]', 'sluice_00000000_wrong');
  await page.click('.login-form button[type="submit"]');
  await page.waitForSelector('.login-form .notice.error');
  await fill('input[name="token"]', adminToken);
  await page.click('.login-form button[type="submit"]');
  await page.waitForFunction(() => location.hash.startsWith('#/overview'));
  check(await page.evaluate(() => sessionStorage.getItem('sluice.token')) === adminToken, 'the token is in sessionStorage');

  reporter.step = 'overview';
  await idle();
  await page.waitForSelector('[data-chart="bytes"] canvas');
  const charts = await chartData();
  log(`overview charts: ${JSON.stringify(charts.map((c) => [c.name, c.labels, (c.sums ?? []).map(Math.round)]))}`);
  const overviewWindow = await page.evaluate(RANGE_SHOWN);
  const hourSummary = JSON.parse(run(args.sluice, ['query', '--data', dataDir, '-t', windowArg(overviewWindow), '-o', 'json'])).summary;
  check(hourSummary.flows > 20000, `the last hour holds the replayed flows (${hourSummary.flows})`);
  for (const metric of ['flows', 'packets', 'bytes']) {
    const chart = charts.find((c) => c.name === metric);
    check(chart && chart.rendered, `the ${metric} chart is drawn`);
    if (!chart || !chart.rendered) continue;
    check(chart.labels.includes('TCP') && chart.labels.includes('UDP'), `the ${metric} chart is split by protocol: ${chart.labels}`);
    // rates per second times the step = the counts over the window, as sluice query has them
    const counted = chart.sums.reduce((a, b) => a + b, 0) * chart.step;
    const expected = hourSummary[metric];
    check(Math.abs(counted - expected) <= Math.max(1, expected * 1e-6), `${metric}: the graph sums to ${counted}, sluice query says ${expected}`);
  }
  // the canvas is really painted, not blank
  const painted = await page.$eval('[data-chart="bytes"] canvas', (canvas) => {
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let opaque = 0;
    for (let idx = 3; idx < pixels.length; idx += 4) if (pixels[idx] > 0) opaque += 1;
    return opaque;
  });
  check(painted > 1000, `the bytes graph is painted (${painted} pixels)`);
  check((await page.$eval('.totals', (el) => el.textContent)).includes('flows'), 'totals shown');
  await shot('02-overview');

  reporter.step = 'drag to zoom';
  const over = await page.$('[data-chart="bytes"] .u-over');
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => location.hash.includes('range=custom'));
  await idle();
  const zoomed = await page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1])));
  const zoomSpan = Number(zoomed.to) - Number(zoomed.from);
  check(zoomSpan > 0 && zoomSpan < 3600e3, `the drag zoomed into part of the hour (${zoomSpan} ms)`);
  await shot('03-overview-zoomed');

  reporter.step = 'custom range';
  // Firefox's own date-time widget: the picker's from/to as values it accepts, then Custom.
  const shownValues = await page.$$eval('.range-custom input[type="datetime-local"]', (inputs) => inputs.map((i) => i.value));
  check(shownValues.every((v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(v)), `the from/to fields hold the range (${shownValues})`);
  const wanted = await page.$$eval('.range-custom input[type="datetime-local"]', (inputs) => {
    const local = (ms) => {
      const d = new Date(ms);
      const two = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
    };
    const texts = [local(Date.now() - 40 * 60e3), local(Date.now() - 20 * 60e3)];
    inputs.forEach((input, idx) => {
      input.value = texts[idx];
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    return texts.map((text) => new Date(text).getTime());
  });
  await page.click('.range-custom button[type="submit"]');
  await page.waitForFunction((from) => location.hash.includes(`from=${from}`), {}, wanted[0]);
  await idle();
  const custom = await page.evaluate(RANGE_SHOWN);
  check(custom.from === wanted[0] && custom.to === wanted[1], `the custom range is shown (${JSON.stringify(custom)} vs ${wanted})`);
  await page.waitForSelector('[data-chart="bytes"] canvas');
  const customFlows = (await chartData()).find((c) => c.name === 'flows');
  const customSummary = JSON.parse(run(args.sluice, ['query', '--data', dataDir, '-t', windowArg(custom), '-o', 'json'])).summary;
  check(Math.abs(customFlows.sums.reduce((a, b) => a + b, 0) * customFlows.step - customSummary.flows) <= 1,
    `the custom range's flows add up (${customSummary.flows})`);

  reporter.step = 'dark theme';
  const themeBefore = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.click('.theme-toggle');
  await idle();
  await page.waitForSelector('[data-chart="bytes"] canvas');
  check(await page.evaluate(() => document.documentElement.dataset.theme) !== themeBefore, 'the theme switches');
  await shot('03-overview-custom-other-theme');
  await page.click('.theme-toggle');

  reporter.step = 'explorer';
  await page.goto(`${base}/#/explorer?range=1h`);
  await idle();
  await fill('.explorer-form .filter-input', 'proto tcp and bytes > 1000');
  await page.select('select[name="order"]', 'bytes');
  await fill('input[name="limit"]', '25');
  await page.click('.explorer-form button[type="submit"]');
  await page.waitForFunction(() => location.hash.includes('order=bytes'));
  await idle();
  await page.waitForSelector('.explorer-output .data-table');
  const command = (await page.$eval('.command', (el) => el.textContent)).trim();
  log(`explorer command: ${command}`);
  const commandWords = shellSplit(command);
  check(commandWords[0] === 'sluice' && commandWords[1] === 'query', 'a sluice query command line is shown');
  const fromCommand = JSON.parse(run(args.sluice, commandWords.slice(1)));
  const uiRows = await page.$$eval('.explorer-output .data-table tbody tr', (rows) => rows.map((row) => ({
    src: row.querySelector('td[data-field="src_addr"]')?.dataset.value,
    dst: row.querySelector('td[data-field="dst_addr"]')?.dataset.value,
    bytes: Number(row.querySelector('td[data-field="bytes"]')?.dataset.value),
  })));
  const cliRows = fromCommand.records.map((r) => ({ src: r.src_addr, dst: r.dst_addr, bytes: r.bytes }));
  check(uiRows.length === 25, `25 rows shown (${uiRows.length})`);
  check(JSON.stringify(uiRows) === JSON.stringify(cliRows), `the rows equal sluice query's:\n ui ${JSON.stringify(uiRows.slice(0, 3))}\n cli ${JSON.stringify(cliRows.slice(0, 3))}`);
  const bytesHeader = await page.evaluateHandle(() => [...document.querySelectorAll('.explorer-output th button')]
    .find((button) => button.textContent.trim().startsWith('bytes')));
  await bytesHeader.click();
  const sortedBytes = await page.$$eval('.explorer-output td[data-field="bytes"]', (cells) => cells.map((c) => Number(c.dataset.value)));
  check(sortedBytes.every((value, idx) => idx === 0 || sortedBytes[idx - 1] <= value) || sortedBytes.every((value, idx) => idx === 0 || sortedBytes[idx - 1] >= value), 'the bytes column sorts');
  await shot('04-explorer');

  reporter.step = 'syntax error';
  await page.goto(`${base}/#/explorer?range=1h`);
  await idle();
  await fill('.explorer-form .filter-input', 'proto tcp and src port');
  await page.focus('.explorer-form .filter-input');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.explorer-form .syntax-error');
  const marked = await page.$eval('.explorer-form .syntax-error', (span) => ({ position: Number(span.dataset.position), text: span.textContent }));
  const message = await page.$eval('.explorer-form .filter-message', (el) => el.textContent);
  check(message.includes('port number'), `the message says what is wrong: ${message}`);
  const column = Number(/column (\d+)/.exec(message)?.[1]);
  check(marked.position === column, `the underline is at column ${column} (${JSON.stringify(marked)})`);
  const underline = await page.$eval('.explorer-form .syntax-error', (span) => getComputedStyle(span).textDecorationLine);
  check(underline.includes('underline'), `the error is underlined (${underline})`);
  // The underline is drawn by a copy of the text behind the input: it must sit under the
  // input's own characters, also when a long filter scrolls the input.
  const markOffset = () => page.$eval('.explorer-form .filter-input', (input) => {
    const mark = input.parentElement.querySelector('.syntax-error');
    const style = getComputedStyle(input);
    const context = document.createElement('canvas').getContext('2d');
    context.font = `${style.fontSize} ${style.fontFamily}`;
    const prefix = input.value.slice(0, Number(mark.dataset.position) - 1);
    const expected = input.getBoundingClientRect().left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft)
      + context.measureText(prefix).width - input.scrollLeft;
    return { offset: mark.getBoundingClientRect().left - expected, scrollLeft: input.scrollLeft };
  });
  let offset = await markOffset();
  check(Math.abs(offset.offset) < 2, `the underline sits under the text (${JSON.stringify(offset)})`);
  await shot('05-syntax-error');
  const longFilter = `${Array.from({ length: 12 }, (_, idx) => `not host 192.0.2.${idx + 1}`).join(' and ')} and dst port`;
  await fill('.explorer-form .filter-input', longFilter);
  await page.focus('.explorer-form .filter-input');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.explorer-form .syntax-error');
  // the error is at the end: going there scrolls the input, and the copy behind it with it
  await page.focus('.explorer-form .filter-input');
  await page.keyboard.press('End');
  await new Promise((resolve) => setTimeout(resolve, 200));
  offset = await markOffset();
  check(offset.scrollLeft > 0, `the long filter scrolls the input (${JSON.stringify(offset)})`);
  check(Math.abs(offset.offset) < 2, `the underline of a scrolled filter sits under the text (${JSON.stringify(offset)})`);
  await shot('05-syntax-error-long');

  reporter.step = 'host page';
  await page.goto(`${base}/#/explorer?range=1h&filter=proto%20tcp&order=bytes&limit=10`);
  await idle();
  const hostLink = await page.waitForSelector('.explorer-output td[data-field="src_addr"] a');
  const address = await hostLink.evaluate((a) => a.textContent);
  await hostLink.click();
  await page.waitForFunction(() => location.hash.startsWith('#/host/'));
  await idle();
  check((await page.$eval('.host-address', (el) => el.textContent)) === address, `the host page is ${address}`);
  await page.waitForSelector('[data-chart="host-bytes"] canvas');
  const hostBytes = (await chartData()).find((c) => c.name === 'host-bytes');
  check(hostBytes.labels.includes('out') && hostBytes.sums.reduce((a, b) => a + b, 0) > 0, `the host graph has traffic (${hostBytes.labels})`);
  const hostSummary = JSON.parse(run(args.sluice, ['query', '--data', dataDir, '-t', windowArg(await page.evaluate(RANGE_SHOWN)),
    '-o', 'json', `src host ${address}`])).summary;
  const outIndex = hostBytes.labels.indexOf('out');
  check(Math.abs(hostBytes.sums[outIndex] * hostBytes.step - hostSummary.bytes) <= 1, `the out line sums to the host's bytes sent (${hostBytes.sums[outIndex] * hostBytes.step} vs ${hostSummary.bytes})`);
  check((await page.$$('.host-flows tbody tr')).length > 0, 'the host page lists flows');
  await shot('06-host');

  reporter.step = 'page errors';
  check(pageErrors.length === 0, `no errors in the page: ${pageErrors.join(' | ')}`);
} catch (error) {
  reporter.fail(error);
  try {
    if (page) await page.screenshot({ path: path.join(outDir, 'failure.png'), fullPage: true });
  } catch {
    // no screenshot
  }
} finally {
  await browser?.close();
  await serve.stop();
}

log(`screenshots in ${outDir}`);
if (failures.length) {
  console.error(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log('Firefox web UI test passed');
