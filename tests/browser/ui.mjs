// Opens pages of a running `backupscope serve` in Debian's chromium and reports what a person
// would see on each, as one JSON document on stdout; tests/web_ui.rs asserts on it.
//
//   node ui.mjs CONFIG.json
//
// CONFIG: {"baseUrl": "http://127.0.0.1:PORT/", "screenshotDir": "DIR" | null,
//          "pages": [{"name": "ack-locations", "hash": "#/locations",
//                     "steps": [{"fill": ["#filter-locations", "shared"]}, {"click": "SELECTOR"},
//                               {"wait": MS}, {"clipboard": true}]}]}
// Every page opens in a fresh tab. The report per page holds the title, the h1, every table
// (headers, rows of cell texts, the row count line), the chart bars, the summary cards, and
// everything that went wrong: console errors and warnings, uncaught exceptions, dialogs,
// failed requests, CSP violations; and whether any planted script ran (window.__pwned).
// The doctor's findings are reported one by one; a step with "clipboard" also reads back what
// a copy button put on the clipboard.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const RENDER_TIMEOUT_MS = 15000;
const STEP_SETTLE_MS = 1200;

function collect() {
  const text = (el) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : '');
  const main = document.querySelector('main');
  return {
    title: document.title,
    // How many times the page has been drawn (auto-refresh redraws it).
    renders: Number(main.dataset.rendered || 0),
    // The heading's parts (kind, name, phase badge) with a space between.
    h1: [...(main.querySelector('h1')?.childNodes || [])].map(text).filter(Boolean).join(' '),
    asOf: text(document.getElementById('asof')),
    tables: [...main.querySelectorAll('[data-table]')].map((w) => ({
      key: w.dataset.table,
      count: text(w.querySelector('.count')),
      headers: [...w.querySelectorAll('thead th')].map(text),
      sortedBy: [...w.querySelectorAll('thead th[aria-sort]')].map((th) => [text(th), th.getAttribute('aria-sort')]),
      rows: [...w.querySelectorAll('tbody tr:not(.sub)')].map((tr) => [...tr.children].map(text)),
      // Lines drawn under a row (a task's message).
      subRows: [...w.querySelectorAll('tbody tr.sub')].map(text),
      badges: [...w.querySelectorAll('tbody .badge')].map((b) => [text(b), b.className]),
    })),
    bars: [...main.querySelectorAll('svg.overview g.vault-row')].map((g) => ({
      vault: g.dataset.vault,
      total: Number(g.dataset.total),
      segments: [...g.querySelectorAll('rect.bar')].map((r) => ({
        outcome: r.dataset.outcome,
        count: Number(r.dataset.count),
        class: r.getAttribute('class'),
        width: Number(r.getAttribute('width')),
      })),
    })),
    findings: [...main.querySelectorAll('[data-finding]')].map((f) => ({
      rule: f.dataset.finding,
      class: f.getAttribute('class'),
      heading: text(f.querySelector('h2')),
      badge: text(f.querySelector('.panel-head .badge')),
      fields: [...f.querySelectorAll('dl.fields dt')].map((dt) => [text(dt), text(dt.nextElementSibling)]),
      links: [...f.querySelectorAll('a')].map((a) => a.getAttribute('href')),
      evidence: [...f.querySelectorAll('table.evidence tbody tr')].map((tr) => [...tr.children].map(text)),
      affected: [...f.querySelectorAll('ul.affected li')].map(text),
      fix: [...f.querySelectorAll('ol.fix > li')].map((li) => ({
        text: text(li.querySelector('p')),
        commands: [...li.querySelectorAll('[data-command] code')].map((c) => c.textContent),
        buttons: [...li.querySelectorAll('[data-command] button')].map(text),
      })),
    })),
    cards: [...main.querySelectorAll('[data-card]')].map((c) => [c.dataset.card, text(c.querySelector('.n'))]),
    errors: [...main.querySelectorAll('.error')].map(text),
    filters: Object.fromEntries([...main.querySelectorAll('input[type=search]')].map((i) => [i.id, i.value])),
    focused: document.activeElement ? document.activeElement.id : null,
    // Elements a successful injection would have created inside the page's content.
    injected: main.querySelectorAll('script, img, iframe, object, embed, [onerror], [onload], [onclick], [onmouseover]').length,
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
    mainText: text(main),
  };
}

const userDataDir = mkdtempSync(join(tmpdir(), 'backupscope-chromium-'));
// A fresh profile directory per run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: config.executablePath || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1440, height: 900 },
  // So a test can read back what a copy button wrote.
  permissions: ['clipboard-read', 'clipboard-write'],
  deviceScaleFactor: 1,
  // Starting Chromium on a loaded 2-core CI machine can take well over 30 s.
  timeout: 120000,
});
const report = { pages: [] };
try {
  for (const spec of config.pages) {
    const page = await context.newPage();
    const problems = { console: [], pageErrors: [], dialogs: [], failedRequests: [], badResponses: [] };
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.console.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.pageErrors.push(String(e)));
    page.on('dialog', async (d) => {
      problems.dialogs.push(`${d.type()}: ${d.message()}`);
      await d.dismiss();
    });
    page.on('requestfailed', (r) => problems.failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !spec.allowStatus?.includes(r.status())) problems.badResponses.push(`${r.status()} ${r.url()}`);
    });
    // Page weight: the bodies of every response of the first render (document, assets, API).
    const bodies = [];
    const weigh = (r) => bodies.push(Promise.all([
      r.body().then((b) => b.length, () => 0),
      r.request().sizes().then((z) => z.responseBodySize + z.responseHeadersSize, () => 0),
    ]));
    page.on('response', weigh);
    const started = Date.now();
    let response;
    try {
      response = await page.goto(config.baseUrl + spec.hash, { waitUntil: 'load' });
      await page.waitForSelector('main[data-rendered]', { timeout: RENDER_TIMEOUT_MS });
    } catch (e) {
      problems.pageErrors.push('did not render: ' + e);
    }
    const renderMs = Date.now() - started;
    page.off('response', weigh);
    const sizes = await Promise.all(bodies);
    const entry = {
      name: spec.name,
      hash: spec.hash,
      renderMs,
      requests: sizes.length,
      // Decoded bodies, and what crossed the wire (compressed bodies plus headers).
      bytes: sizes.reduce((a, [body]) => a + body, 0),
      transferred: sizes.reduce((a, [, wire]) => a + wire, 0),
      csp: response ? response.headers()['content-security-policy'] || null : null,
      ...(await page.evaluate(collect)),
      steps: [],
      problems,
    };
    // As first shown, before any step.
    if (config.screenshotDir && spec.screenshot !== false) {
      await page.screenshot({ path: join(config.screenshotDir, spec.name + '.png'), fullPage: true });
    }
    for (const step of spec.steps || []) {
      if (step.fill) await page.fill(step.fill[0], step.fill[1]);
      if (step.click) await page.click(step.click);
      await page.waitForTimeout(step.wait || STEP_SETTLE_MS);
      const seen = await page.evaluate(collect);
      if (step.clipboard) seen.clipboard = await page.evaluate(() => navigator.clipboard.readText());
      entry.steps.push(seen);
    }
    report.pages.push(entry);
    await page.close();
  }
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + '\n');
