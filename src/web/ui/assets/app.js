// backupscope web UI: the four dashboards, the doctor's findings and a detail page per vault,
// task, schedule and component, built from the JSON API (docs/api.md).
//
// Every value from the cluster is hostile input. The page is built only with
// document.createElement / createElementNS, textContent and setAttribute on attributes that
// carry no script (class, href built from encodeURIComponent, data-*, SVG geometry); nothing
// is ever parsed as markup. Colours come from the `severity` the API rows carry.
'use strict';

(function () {
  // Auto-refresh period; `?refresh=SECONDS` (at least 2) changes it.
  const REFRESH_MS = Math.max(2, Number(new URLSearchParams(location.search).get('refresh')) || 30) * 1000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const main = document.getElementById('main');
  // Per-route view state (sort, filter, page), kept across auto-refreshes.
  const views = new Map();
  let now = null;
  let rendering = 0;

  // ---- DOM helpers ------------------------------------------------------------------------

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    setProps(el, props);
    append(el, children);
    return el;
  }

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) el.setAttribute(k, String(v));
    }
    append(el, children);
    return el;
  }

  function setProps(el, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  // ---- formatting -------------------------------------------------------------------------

  function time(ts) {
    if (!ts) return '—';
    return String(ts).replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return '—';
    let left = Math.max(0, Math.round(seconds));
    const parts = [];
    for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
      const n = Math.floor(left / size);
      left -= n * size;
      if (n > 0 || (unit === 's' && parts.length === 0)) parts.push(n + unit);
      if (parts.length === 2) break;
    }
    return parts.join('');
  }

  function since(ts) {
    if (!ts || !now) return null;
    return (Date.parse(now) - Date.parse(ts)) / 1000;
  }

  function ago(ts) {
    const s = since(ts);
    return s === null ? '—' : duration(s) + ' ago';
  }

  function cores(v) {
    if (v === null || v === undefined) return '—';
    return v < 1 ? Math.round(v * 1000) + 'm' : String(Math.round(v * 1000) / 1000);
  }

  function bytes(v) {
    if (v === null || v === undefined) return '—';
    const units = [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
    for (const [u, size] of units) {
      if (v >= size) {
        const n = v / size;
        return (Number.isInteger(n) ? n : n.toFixed(1)) + u;
      }
    }
    return String(v);
  }

  function number(n) {
    return Number(n).toLocaleString('en-US');
  }

  function badge(word, severity) {
    if (!word) return h('span', { class: 'muted' }, '—');
    return h('span', { class: 'badge sev-' + (severity || 'unknown') }, word);
  }

  function orDash(v) {
    return v === null || v === undefined || v === '' ? h('span', { class: 'muted' }, '—') : String(v);
  }

  // ---- links ------------------------------------------------------------------------------

  function route(...parts) {
    return '#/' + parts.map(encodeURIComponent).join('/');
  }

  function vaultLink(namespace, name, exists) {
    if (!name) return h('span', { class: 'muted' }, '(none)');
    return h('span', null,
      h('a', { href: route('backuplocation', namespace, name) }, name),
      exists === false ? h('span', { class: 'tag', title: 'no such backup location' }, 'missing') : null);
  }

  function backupLink(namespace, name) {
    return h('a', { href: route('backup', namespace, name) }, name);
  }

  function scheduleLink(namespace, name) {
    if (!name) return h('span', { class: 'muted' }, 'manual');
    return h('a', { href: route('schedule', namespace, name) }, name);
  }

  // ---- API --------------------------------------------------------------------------------

  async function api(path, params) {
    const query = params ? '?' + new URLSearchParams(params).toString() : '';
    const response = await fetch('api/v1/' + path + query, { headers: { accept: 'application/json' } });
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) {
      const err = new Error((body && body.error) || response.status + ' ' + response.statusText);
      err.status = response.status;
      throw err;
    }
    return body;
  }

  // ---- tables -----------------------------------------------------------------------------

  // A table sorted and filtered in the page (lists bounded by vaults, schedules, components).
  // columns: {label, value(row) -> sortable/filterable value, cell(row) -> node|text, num}
  function localTable(state, key, columns, rows, opts) {
    opts = opts || {};
    const st = state[key] || (state[key] = { sort: opts.sort ?? null, desc: !!opts.desc, filter: '', offset: 0 });
    // Only a page of rows is drawn: a thousand vaults are sorted and filtered in memory, but
    // laying out every row would cost the browser seconds.
    const pageRows = opts.pageRows || 100;
    const prev = h('button', { type: 'button' }, '‹ Previous');
    const next = h('button', { type: 'button' }, 'Next ›');
    const pager = h('div', { class: 'pager' }, prev, next);
    const wrap = h('div', { class: 'tablewrap-outer', 'data-table': key });
    const input = h('input', {
      type: 'search', id: 'filter-' + key, placeholder: opts.placeholder || 'Filter…',
      'aria-label': 'Filter ' + (opts.title || 'rows'), value: st.filter,
    });
    const count = h('span', { class: 'count' });
    const tbody = h('tbody');
    const headRow = h('tr');
    const table = h('table', { class: 'data' }, h('thead', null, headRow), tbody);

    const text = (row, c) => {
      const v = c.value(row);
      return v === null || v === undefined ? '' : String(v);
    };
    function draw() {
      const needle = st.filter.trim().toLowerCase();
      let shown = rows.filter((r) => !needle || columns.some((c) => text(r, c).toLowerCase().includes(needle)));
      if (st.sort !== null) {
        const c = columns[st.sort];
        shown = shown.slice().sort((a, b) => compare(c.value(a), c.value(b)) * (st.desc ? -1 : 1));
      }
      tbody.replaceChildren();
      st.offset = Math.min(st.offset, Math.max(0, Math.floor((shown.length - 1) / pageRows) * pageRows));
      const visible = shown.slice(st.offset, st.offset + pageRows);
      for (const r of visible) {
        tbody.appendChild(h('tr', null, columns.map((c) => h('td', { class: cellClass(c) }, c.cell ? c.cell(r) : orDash(c.value(r))))));
      }
      if (shown.length === 0) {
        tbody.appendChild(h('tr', null, h('td', { class: 'empty', colspan: columns.length }, rows.length ? 'No row matches the filter.' : (opts.empty || 'Nothing to show.'))));
      }
      count.textContent = (shown.length > pageRows ? number(st.offset + 1) + '–' + number(st.offset + visible.length) + ' of ' : '') +
        (shown.length === rows.length ? number(rows.length) + ' rows' : number(shown.length) + ' of ' + number(rows.length) + ' rows');
      pager.hidden = shown.length <= pageRows;
      prev.disabled = st.offset === 0;
      next.disabled = st.offset + pageRows >= shown.length;
      headRow.replaceChildren(...columns.map((c, i) => {
        const th = h('th', { class: c.num ? 'num' : null, scope: 'col' }, h('button', {
          type: 'button',
          onclick: () => {
            if (st.sort === i) st.desc = !st.desc; else { st.sort = i; st.desc = !!c.num; }
            st.offset = 0;
            draw();
          },
        }, c.label));
        if (st.sort === i) th.setAttribute('aria-sort', st.desc ? 'descending' : 'ascending');
        return th;
      }));
    }
    input.addEventListener('input', () => { st.filter = input.value; st.offset = 0; draw(); });
    prev.addEventListener('click', () => { st.offset = Math.max(0, st.offset - pageRows); draw(); });
    next.addEventListener('click', () => { st.offset += pageRows; draw(); });
    draw();
    append(wrap, [h('div', { class: 'tablebar' }, input, count, h('span', { class: 'spacer' }), pager), h('div', { class: 'tablewrap' }, table)]);
    return wrap;
  }

  function cellClass(c) {
    return [c.num ? 'num' : null, c.msg ? 'msg' : null, c.nowrap ? 'nowrap' : null].filter(Boolean).join(' ') || null;
  }

  function compare(a, b) {
    const empty = (v) => v === null || v === undefined || v === '';
    if (empty(a) && empty(b)) return 0;
    if (empty(a)) return 1;
    if (empty(b)) return -1;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) - Number(b);
    return String(a).localeCompare(String(b), 'en', { numeric: true });
  }

  // The task columns, each with the server's sort key when it has one.
  const TASK_COLUMNS = {
    name: { label: 'Backup', sort: 'name', nowrap: true, cell: (r) => backupLink(r.namespace, r.name) },
    namespace: { label: 'Namespace', sort: 'namespace', cell: (r) => r.namespace },
    backupLocation: { label: 'Backuplocation', sort: 'backupLocation', nowrap: true, cell: (r) => vaultLink(r.namespace, r.backupLocation, r.backupLocationExists) },
    backupType: { label: 'BackupType', cell: (r) => r.backupType },
    dataType: { label: 'DataType', cell: (r) => orDash(r.dataType) },
    fromSchedule: { label: 'FromSchedule', sort: 'schedule', nowrap: true, cell: (r) => scheduleLink(r.namespace, r.fromSchedule) },
    phase: { label: 'Phase', sort: 'phase', nowrap: true, cell: (r) => badge(r.phase, r.severity) },
    reason: { label: 'Reason', cell: (r) => orDash(r.reason) },
    started: { label: 'Started', sort: 'started', nowrap: true, cell: (r) => time(r.started || r.created) },
    completed: { label: 'Completed', sort: 'completed', nowrap: true, cell: (r) => time(r.completed) },
    running: { label: 'Running for', sort: 'started', invert: true, num: true, nowrap: true, cell: (r) => duration(r.runningSeconds) },
  };

  // A task table paginated, sorted and filtered by the server (100 000 tasks never travel).
  function taskTable(state, key, base, columnNames, opts) {
    opts = opts || {};
    const st = state[key] || (state[key] = { q: '', sort: null, order: null, offset: 0 });
    const limit = opts.limit || 50;
    // A message column is drawn as a line under its row, across the table.
    const below = columnNames.includes('message');
    const columns = columnNames.filter((n) => n !== 'message').map((n) => TASK_COLUMNS[n]);
    const wrap = h('div', { class: 'tablewrap-outer', 'data-table': key });
    const input = h('input', {
      type: 'search', id: 'filter-' + key, placeholder: 'Filter by name, vault, schedule, phase, message…',
      'aria-label': 'Filter ' + (opts.title || 'tasks'), value: st.q,
    });
    const count = h('span', { class: 'count' });
    const prev = h('button', { type: 'button' }, '‹ Previous');
    const next = h('button', { type: 'button' }, 'Next ›');
    const tbody = h('tbody');
    const headRow = h('tr');
    const table = h('table', { class: 'data' }, h('thead', null, headRow), tbody);
    let timer = null;

    async function load() {
      const params = Object.assign({}, base, { offset: st.offset, limit });
      if (st.q) params.q = st.q;
      if (st.sort) { params.sort = st.sort; params.order = st.order; }
      const page = await api('backups', params);
      if (page.offset >= page.total && page.total > 0 && st.offset > 0) {
        st.offset = Math.max(0, Math.floor((page.total - 1) / limit) * limit);
        return load();
      }
      draw(page);
      return page;
    }
    function draw(page) {
      tbody.replaceChildren();
      for (const r of page.items) {
        const sub = below && r.message;
        tbody.appendChild(h('tr', { 'data-backup': r.name, class: sub ? 'has-sub' : null }, columns.map((c) => h('td', { class: cellClass(c) }, c.cell(r)))));
        if (sub) tbody.appendChild(h('tr', { class: 'sub' }, h('td', { colspan: columns.length, class: 'msg' }, r.message)));
      }
      if (page.items.length === 0) {
        tbody.appendChild(h('tr', null, h('td', { class: 'empty', colspan: columns.length }, st.q ? 'No task matches the filter.' : (opts.empty || 'No tasks.'))));
      }
      const first = page.total ? page.offset + 1 : 0;
      const last = page.offset + page.items.length;
      count.textContent = page.total ? number(first) + '–' + number(last) + ' of ' + number(page.total) : '0 tasks';
      prev.disabled = page.offset === 0;
      next.disabled = last >= page.total;
      headRow.replaceChildren(...columns.map((c) => {
        const active = c.sort && st.sort === c.sort && !!c.invert === !!st.invert;
        const label = c.sort ? h('button', {
          type: 'button',
          onclick: () => {
            if (active) st.order = st.order === 'asc' ? 'desc' : 'asc';
            else { st.sort = c.sort; st.invert = !!c.invert; st.order = c.invert ? 'asc' : 'desc'; }
            st.offset = 0;
            load().catch(showError);
          },
        }, c.label) : c.label;
        const th = h('th', { class: c.num ? 'num' : null, scope: 'col' }, label);
        if (active) {
          const asc = (st.order === 'asc') !== !!c.invert;
          th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        }
        return th;
      }));
    }
    function showError(e) {
      tbody.replaceChildren(h('tr', null, h('td', { class: 'empty', colspan: columns.length }, h('span', { class: 'error' }, String(e.message || e)))));
    }
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => { st.q = input.value.trim(); st.offset = 0; load().catch(showError); }, 250);
    });
    prev.addEventListener('click', () => { st.offset = Math.max(0, st.offset - limit); load().catch(showError); });
    next.addEventListener('click', () => { st.offset += limit; load().catch(showError); });
    append(wrap, [
      h('div', { class: 'tablebar' }, input, count, h('span', { class: 'spacer' }), h('div', { class: 'pager' }, prev, next)),
      h('div', { class: 'tablewrap' }, table),
    ]);
    return { el: wrap, ready: load() };
  }

  // ---- charts -----------------------------------------------------------------------------

  // Stripes tell unfinished tasks from finished ones of the same severity.
  const HATCHED = new Set(['InProgress']);

  // Adds the stripe pattern of a severity to the chart; returns the class that fills with it
  // (a CSS fill wins over a fill attribute, so the stylesheet references the pattern).
  function hatched(defs, severity) {
    const id = 'hatch-' + severity;
    if (!defs.querySelector('#' + id)) {
      defs.appendChild(s('pattern', { id, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        s('rect', { width: 6, height: 6, class: 'bar sev-' + severity }),
        s('line', { x1: 0, y1: 0, x2: 0, y2: 6 })));
    }
    return ' hatched';
  }

  function swatch(bar) {
    const svg = s('svg', { viewBox: '0 0 14 14', 'aria-hidden': 'true' });
    const defs = s('defs');
    svg.appendChild(defs);
    svg.appendChild(s('rect', {
      width: 14, height: 14, rx: 3,
      class: 'swatch sev-' + bar.severity + (HATCHED.has(bar.outcome) ? hatched(defs, bar.severity) : ''),
    }));
    return svg;
  }

  function legend(bars) {
    return h('div', { class: 'legend' }, bars.map((b) => h('span', null, swatch(b), b.outcome)));
  }

  // Backup Overview: one stacked horizontal bar per vault, segments by outcome group.
  function overviewChart(vaults, barW) {
    barW = barW || 900;
    const rowH = 30;
    const top = 6;
    const labelW = Math.min(260, Math.max(90, 16 + 7 * Math.max(...vaults.map((v) => label(v).length), 8)));
    const width = labelW + barW + 70;
    const max = Math.max(1, ...vaults.map((v) => v.total));
    const height = top + rowH * vaults.length + 24;
    const svg = s('svg', { class: 'chart overview', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'Backup tasks per backup location by outcome' });
    const defs = s('defs');
    svg.appendChild(defs);
    const ticks = niceTicks(max);
    for (const t of ticks) {
      const x = labelW + (t / max) * barW;
      svg.appendChild(s('line', { class: 'grid', x1: x, x2: x, y1: top - 2, y2: top + rowH * vaults.length }));
      svg.appendChild(s('text', { class: 'dim', x, y: height - 6, 'text-anchor': 'middle' }, String(t)));
    }
    vaults.forEach((v, i) => {
      const y = top + i * rowH;
      const g = s('g', { class: 'vault-row', 'data-vault': v.backupLocation, 'data-namespace': v.namespace, 'data-total': v.total });
      g.appendChild(s('text', { x: labelW - 10, y: y + rowH / 2 + 4, 'text-anchor': 'end' }, label(v)));
      let x = labelW;
      for (const b of v.bars) {
        if (!b.count) continue;
        const w = (b.count / max) * barW;
        const rect = s('rect', {
          class: 'bar sev-' + b.severity + (HATCHED.has(b.outcome) ? hatched(defs, b.severity) : ''),
          x, y: y + 5, width: Math.max(w, 1.5), height: rowH - 10, rx: 2,
          'data-outcome': b.outcome, 'data-count': b.count,
        }, s('title', null, `${v.backupLocation || '(none)'}: ${b.count} ${b.outcome}`));
        g.appendChild(rect);
        if (w >= 22) {
          g.appendChild(s('text', { class: 'in-bar sev-' + b.severity, x: x + w / 2, y: y + rowH / 2 + 4, 'text-anchor': 'middle' }, String(b.count)));
        }
        x += w;
      }
      g.appendChild(s('text', { class: 'dim', x: x + 8, y: y + rowH / 2 + 4 }, v.total ? String(v.total) : 'no tasks'));
      svg.appendChild(g);
    });
    return svg;
  }

  function label(v) {
    return (v.backupLocation || '(no backup location)') + (v.backupLocationExists ? '' : ' (missing)');
  }

  function niceTicks(max) {
    const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000]
      .find((st) => max / st <= 6) || Math.ceil(max / 5);
    const ticks = [];
    for (let t = 0; t <= max; t += step) ticks.push(t);
    return ticks;
  }

  // RPO: age of the last good backup against the schedule's interval (marks at 1x and 2x).
  function rpoBar(row) {
    const w = 90;
    const svg = s('svg', { class: 'chart rpo', viewBox: `0 0 ${w} 14`, width: w, height: 14, role: 'img' });
    if (row.rpoIntervals === null || row.rpoIntervals === undefined) return h('span', { class: 'muted' }, '—');
    const scale = Math.max(3, Math.ceil(row.rpoIntervals));
    svg.appendChild(s('rect', { class: 'track', x: 0, y: 3, width: w, height: 8, rx: 4 }));
    svg.appendChild(s('rect', { class: 'rpo', x: 0, y: 3, width: Math.max(2, (row.rpoIntervals / scale) * w), height: 8, rx: 4, 'data-intervals': row.rpoIntervals.toFixed(2) }));
    for (const m of [1, 2]) {
      svg.appendChild(s('line', { class: 'mark', x1: (m / scale) * w, x2: (m / scale) * w, y1: 0, y2: 14 }));
    }
    svg.appendChild(s('title', null, `${row.rpoIntervals.toFixed(2)} × interval`));
    return h('span', { class: 'rpo-cell' }, svg, ' ', h('span', { class: 'muted' }, row.rpoIntervals.toFixed(1) + '×'));
  }

  // ---- pieces -----------------------------------------------------------------------------

  function panel(title, ...children) {
    return h('section', { class: 'panel' }, title ? h('div', { class: 'panel-head' }, h('h2', null, title)) : null, children);
  }

  function cards(items) {
    return h('div', { class: 'cards' }, items.map((c) => h('div', { class: 'card ' + (c.severity ? 'sev-' + c.severity : 'neutral'), 'data-card': c.label },
      h('div', { class: 'n' }, number(c.n)), h('div', { class: 'l' }, c.label))));
  }

  // Counts by a row field, each with the severity its rows carry.
  function countBy(rows, field) {
    const by = new Map();
    for (const r of rows) {
      const k = r[field];
      const e = by.get(k) || { label: k, n: 0, severity: r.severity };
      e.n += 1;
      by.set(k, e);
    }
    return [...by.values()];
  }

  function fields(pairs) {
    return h('dl', { class: 'fields' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v instanceof Node ? v : orDash(v))]));
  }

  function eventsTable(state, key, events) {
    return localTable(state, key, [
      { label: 'Last seen', value: (e) => e.lastTimestamp, cell: (e) => time(e.lastTimestamp) },
      { label: 'Type', value: (e) => e.eventType },
      { label: 'Reason', value: (e) => e.reason },
      { label: 'Count', value: (e) => e.count, num: true },
      { label: 'Source', value: (e) => e.source },
      { label: 'Message', value: (e) => e.message, msg: true },
    ], events, { sort: 0, desc: true, empty: 'No Warning events.', title: 'events' });
  }

  // The detail page of an object a finding names, when the UI has one for its kind (the
  // doctor names objects by their Kubernetes kind, per engine).
  const KIND_PAGES = {
    BackupLocation: 'backuplocation', BackupStorageLocation: 'backuplocation',
    ApplicationBackup: 'backup', Backup: 'backup',
    BackupSchedule: 'schedule', Schedule: 'schedule',
  };

  function objectRef(o) {
    const text = (o.namespace ? o.namespace + '/' : '') + o.kind + '/' + o.name;
    const page = KIND_PAGES[o.kind];
    return page && o.namespace ? h('a', { href: route(page, o.namespace, o.name) }, text) : text;
  }

  // A shell command with a button that copies it (the clipboard needs a secure context; where
  // it is refused, the command is selected so Ctrl+C copies it).
  function command(text) {
    const code = h('code', null, text);
    const button = h('button', { type: 'button', class: 'plain copy', 'aria-label': 'Copy command' }, 'Copy');
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = 'Copied';
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        button.textContent = 'Selected: press Ctrl+C';
      }
      setTimeout(() => { button.textContent = 'Copy'; }, 2000);
    });
    return h('div', { class: 'command', 'data-command': '' }, h('pre', null, '$ ', code), button);
  }

  function finding(f, i) {
    return h('section', { class: 'panel finding sev-' + f.severity, id: 'finding-' + (i + 1), 'data-finding': f.rule },
      h('div', { class: 'panel-head' },
        h('h2', null, (i + 1) + '. ', f.summary),
        h('span', { class: 'spacer' }),
        badge(f.severity, f.severity), h('span', { class: 'mono rule' }, f.rule)),
      fields([['Object', objectRef(f.object)], ['Cause', f.cause]]),
      h('h3', null, 'Evidence'),
      h('table', { class: 'data evidence' },
        h('thead', null, h('tr', null, ['Time', 'Object', 'Fact'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, f.evidence.map((e) => h('tr', null,
          h('td', { class: 'nowrap' }, time(e.time)), h('td', { class: 'nowrap' }, objectRef(e.object)), h('td', { class: 'msg' }, e.fact))))),
      f.affected.length ? [h('h3', null, `Affected (${f.affected.length})`),
        h('ul', { class: 'affected' }, f.affected.map((a) => h('li', null, objectRef(a))))] : null,
      h('h3', null, 'Fix'),
      h('ol', { class: 'fix' }, f.fix.map((step) => h('li', null, h('p', null, step.text), step.commands.map(command)))));
  }

  function namespacesOf(rows) {
    return new Set(rows.map((r) => r.namespace)).size;
  }

  // ---- pages ------------------------------------------------------------------------------

  const pages = {
    async locations(state) {
      const doc = await api('backuplocations');
      const rows = doc.items;
      const cols = [
        { label: 'Backuplocation', value: (r) => r.name, cell: (r) => vaultLink(r.namespace, r.name, true) },
        namespacesOf(rows) > 1 ? { label: 'Namespace', value: (r) => r.namespace } : null,
        { label: 'Provider', value: (r) => r.provider },
        { label: 'OSS Bucket', value: (r) => r.bucket },
        { label: 'Prefix', value: (r) => r.prefix },
        { label: 'Region', value: (r) => r.region },
        { label: 'NetworkPolicy', value: (r) => r.networkPolicy },
        { label: 'Phase', value: (r) => r.phase, cell: (r) => badge(r.phase, r.severity) },
        { label: 'Last validation', value: (r) => r.lastValidationTime, cell: (r) => time(r.lastValidationTime) },
        { label: 'Access mode', value: (r) => r.accessMode },
        { label: 'Default', value: (r) => (r.default ? 'default' : ''), cell: (r) => (r.default ? h('span', { class: 'tag' }, 'default') : '') },
        { label: 'Message', value: (r) => r.message, msg: true },
      ].filter(Boolean);
      return [
        h('h1', null, 'Backup Locations'),
        cards([{ label: 'backup locations', n: rows.length }, ...countBy(rows, 'phase')]),
        panel('Backuplocation Detail', localTable(state, 'locations', cols, rows, { sort: 0, empty: 'No backup location found.', title: 'backup locations' })),
      ];
    },

    async operations(state) {
      const overview = await api('overview');
      const vaults = overview.vaults;
      const failed = taskTable(state, 'failed', { set: 'failed' },
        ['name', 'backupLocation', 'backupType', 'dataType', 'fromSchedule', 'phase', 'reason', 'completed', 'message'],
        { empty: 'No failed backups.', title: 'failed backups' });
      await failed.ready;
      const totals = overview.totals.bars;
      const countCols = [
        { label: 'Backuplocation', value: (v) => v.backupLocation, cell: (v) => vaultLink(v.namespace, v.backupLocation, v.backupLocationExists) },
        namespacesOf(vaults) > 1 ? { label: 'Namespace', value: (v) => v.namespace } : null,
        ...totals.map((b, i) => (b.outcome === 'Unknown' && !b.count ? null : { label: b.outcome, value: (v) => v.bars[i].count, num: true })),
        { label: 'Total', value: (v) => v.total, num: true },
      ].filter(Boolean);
      const chartVaults = vaults.slice().sort((a, b) => b.total - a.total || a.backupLocation.localeCompare(b.backupLocation)).slice(0, 40);
      return [
        h('h1', null, 'Backup Operation Status'),
        cards([{ label: 'backup tasks', n: overview.totals.total }, ...totals.filter((b) => b.count || b.outcome !== 'Unknown').map((b) => ({ label: b.outcome, n: b.count, severity: b.severity }))]),
        h('section', { class: 'panel' },
          h('div', { class: 'panel-head' }, h('h2', null, 'Backup Overview'),
            vaults.length > chartVaults.length ? h('span', { class: 'muted' }, `the ${chartVaults.length} backup locations with most tasks; the table lists all ${vaults.length}`) : null),
          legend(totals.filter((b) => b.outcome !== 'Unknown' || b.count)),
          overviewChart(chartVaults)),
        panel('Tasks per backup location', localTable(state, 'counts', countCols, vaults, { sort: 0, title: 'backup locations' })),
        panel('Failed Backup Detail', failed.el),
      ];
    },

    async addons(state) {
      const doc = await api('components');
      const rows = doc.items;
      const cols = [
        { label: 'Component', value: (r) => r.component, cell: (r) => h('a', { href: route('component', r.namespace, r.component) }, r.component) },
        { label: 'Namespace', value: (r) => r.namespace },
        { label: 'Age', value: (r) => r.ageSeconds, cell: (r) => duration(r.ageSeconds), num: true },
        { label: 'Status', value: (r) => r.status, cell: (r) => badge(r.status, r.severity) },
        { label: 'Pods', value: (r) => r.podsReady, cell: (r) => `${r.podsReady}/${r.podsDesired}`, num: true },
        { label: 'Memory Request', value: (r) => r.memoryRequest, cell: (r) => bytes(r.memoryRequest), num: true },
        { label: 'CPU Request', value: (r) => r.cpuRequest, cell: (r) => cores(r.cpuRequest), num: true },
        { label: 'Memory Limit', value: (r) => r.memoryLimit, cell: (r) => bytes(r.memoryLimit), num: true },
        { label: 'CPU Limit', value: (r) => r.cpuLimit, cell: (r) => cores(r.cpuLimit), num: true },
        { label: 'Restarts', value: (r) => r.restarts, num: true },
        { label: 'Last termination', value: (r) => r.lastTerminationReason },
      ];
      return [
        h('h1', null, 'Addon Status'),
        cards([{ label: 'components', n: rows.length }, ...countBy(rows, 'status'), { label: 'restarts', n: rows.reduce((a, r) => a + r.restarts, 0) }]),
        panel('Working components', localTable(state, 'components', cols, rows, { empty: 'No component found.', title: 'components' })),
      ];
    },

    async health(state) {
      const doc = await api('health');
      const unfinished = taskTable(state, 'unfinished', { set: 'unfinished' },
        ['name', 'namespace', 'backupLocation', 'fromSchedule', 'phase', 'started', 'running'],
        { empty: 'No unfinished tasks.', title: 'unfinished tasks', limit: 20 });
      const unfinishedPage = await unfinished.ready;
      const schedules = doc.schedules;
      const restores = doc.restoreStatus;
      const scheduleCols = [
        { label: 'Schedule', value: (r) => r.name, cell: (r) => scheduleLink(r.namespace, r.name), nowrap: true },
        namespacesOf(schedules) > 1 ? { label: 'Namespace', value: (r) => r.namespace } : null,
        { label: 'Backuplocation', value: (r) => r.backupLocation, cell: (r) => vaultLink(r.namespace, r.backupLocation), nowrap: true },
        { label: 'Cron', value: (r) => r.cron, cell: (r) => h('span', { class: 'mono' }, r.cron), nowrap: true },
        { label: 'Phase', value: (r) => r.phase, cell: (r) => badge(r.phase, r.severity) },
        { label: 'Paused', value: (r) => (r.paused ? 'paused' : ''), cell: (r) => (r.paused ? h('span', { class: 'tag' }, 'paused') : '') },
        { label: 'Interval', value: (r) => r.intervalSeconds, cell: (r) => duration(r.intervalSeconds), num: true },
        { label: 'Last success', value: (r) => r.lastSuccess, cell: (r) => time(r.lastSuccess), nowrap: true },
        { label: 'Since last success', value: (r) => r.secondsSinceLastSuccess, cell: (r) => duration(r.secondsSinceLastSuccess), num: true },
        { label: 'RPO / interval', value: (r) => r.rpoIntervals, cell: rpoBar, num: true, nowrap: true },
        { label: 'Last backup', value: (r) => r.lastBackupOutcome, cell: (r) => badge(r.lastBackupOutcome, r.lastBackupSeverity) },
        schedules.some((r) => r.problem) ? { label: 'Problem', value: (r) => r.problem, msg: true } : null,
      ].filter(Boolean);
      const restoreCols = [
        { label: 'Restore', value: (r) => r.name, nowrap: true },
        namespacesOf(restores.restores) > 1 ? { label: 'Namespace', value: (r) => r.namespace } : null,
        { label: 'Backup', value: (r) => r.backup, cell: (r) => backupLink(r.namespace, r.backup), nowrap: true },
        { label: 'Phase', value: (r) => r.phase, cell: (r) => badge(r.phase, r.severity) },
        { label: 'Errors', value: (r) => r.errors, num: true },
        { label: 'Warnings', value: (r) => r.warnings, num: true },
        { label: 'Reason', value: (r) => r.reason },
        { label: 'Started', value: (r) => r.started, cell: (r) => time(r.started), nowrap: true },
        restores.restores.some((r) => r.runningSeconds !== null) ? { label: 'Running for', value: (r) => r.runningSeconds, cell: (r) => duration(r.runningSeconds), num: true } : null,
        { label: 'Message', value: (r) => r.message, msg: true },
      ].filter(Boolean);
      const rc = restores.counts;
      return [
        h('h1', null, 'Backup Health'),
        cards([
          { label: 'schedules', n: schedules.length },
          ...countBy(schedules, 'phase'),
          { label: 'paused', n: schedules.filter((r) => r.paused).length },
          { label: 'unfinished tasks', n: unfinishedPage.total },
          { label: 'failed restores', n: rc.failed + rc.partiallyFailed },
        ]),
        panel('Schedules: RPO against the interval', localTable(state, 'schedules', scheduleCols, schedules, { empty: 'No schedule found.', title: 'schedules' })),
        panel('Unfinished tasks (stuck detection), longest running first', unfinished.el),
        panel(`Restores: ${rc.completed} completed, ${rc.failed} failed, ${rc.partiallyFailed} partially failed, ${rc.inProgress} in progress`,
          localTable(state, 'restores', restoreCols, restores.restores, { empty: 'No failed or unfinished restore.', title: 'restores' })),
      ];
    },

    async doctor(state) {
      const d = await api('doctor');
      // Most severe first, as the server sorts them; the number links to the finding below.
      const rows = d.findings.map((f, i) => Object.assign({ n: i + 1 }, f));
      const cols = [
        { label: '#', value: (r) => r.n, cell: (r) => h('a', { href: '#/doctor', 'data-goto': 'finding-' + r.n }, String(r.n)), num: true },
        { label: 'Severity', value: (r) => r.severity, cell: (r) => badge(r.severity, r.severity) },
        { label: 'Rule', value: (r) => r.rule, cell: (r) => h('span', { class: 'mono' }, r.rule), nowrap: true },
        { label: 'Object', value: (r) => r.object.namespace + '/' + r.object.kind + '/' + r.object.name, cell: (r) => objectRef(r.object), nowrap: true },
        { label: 'Summary', value: (r) => r.summary, msg: true },
      ];
      const table = localTable(state, 'findings', cols, rows, { empty: 'No problems found.', title: 'findings' });
      // In-page links would change the route: scroll instead.
      table.addEventListener('click', (e) => {
        const a = e.target.closest('a[data-goto]');
        if (!a) return;
        e.preventDefault();
        const target = document.getElementById(a.dataset.goto);
        if (target) target.scrollIntoView();
      });
      const counts = ['critical', 'warning', 'unknown'].map((sev) => ({ label: sev, n: d.findings.filter((f) => f.severity === sev).length, severity: sev }));
      return [
        h('h1', null, 'Doctor'),
        h('p', { class: 'muted' }, 'What is broken, one finding per root cause, with the evidence, the cause and the fix. ',
          'The same findings as ', h('span', { class: 'mono' }, 'backupscope doctor'), '; ',
          h('span', { class: 'mono' }, 'backupscope doctor --explain RULE'), ' says what a rule checks.',
          d.kubernetesVersion ? ' Kubernetes ' + d.kubernetesVersion + '.' : ''),
        cards([{ label: 'findings', n: d.findings.length }, ...counts]),
        panel('Findings, most severe first', table),
        d.findings.map(finding),
      ];
    },

    async backuplocation(state, namespace, name) {
      const head = (sev, phase) => [
        h('div', { class: 'crumbs' }, h('a', { href: '#/locations' }, 'Backup Locations'), ' › ', namespace),
        h('h1', null, h('span', { class: 'kind' }, 'Backup location'), name, phase ? badge(phase, sev) : null),
      ];
      const tasks = taskTable(state, 'tasks', { namespace, backupLocation: name },
        ['name', 'fromSchedule', 'phase', 'reason', 'started', 'completed', 'message'], { title: 'tasks of this backup location' });
      // Tasks may name a vault that does not exist: ask whether it does first, so the page
      // explains that instead of failing on a 404.
      const known = await api('backuplocations', { namespace, name });
      if (known.items.length === 0) {
        await tasks.ready;
        return [...head(null, null),
          h('p', { class: 'notice' }, `No backup location ${JSON.stringify(name)} exists in namespace ${JSON.stringify(namespace)}; these tasks name it, and fail validation.`),
          panel('Tasks that name this backup location', tasks.el)];
      }
      const d = await api('backuplocations/' + encodeURIComponent(namespace) + '/' + encodeURIComponent(name));
      await tasks.ready;
      return [
        ...head(d.severity, d.phase),
        h('div', { class: 'grid2' },
          panel('Fields', fields([
            ['Namespace', d.namespace], ['Engine', d.engine], ['Provider', d.provider], ['Bucket', d.bucket],
            ['Prefix', d.prefix], ['Region', d.region], ['Network policy', d.network_policy],
            ['Phase', badge(d.phase, d.severity)], ['Raw phase', d.raw_phase],
            d.twinPhase !== null && d.twinPhase !== undefined ? ['Velero twin phase', d.twinPhase] : null,
            ['Last validation', time(d.last_validation)], ['Default', d.default ? 'yes' : 'no'],
            ['Access mode', d.access_mode], ['Credential (Secret name)', d.credential_secret], ['Created', time(d.created)],
          ]), d.message ? [h('h2', { class: 'sub' }, 'Message'), h('pre', { class: 'message' }, d.message)] : null),
          panel(`Tasks by outcome (${number(d.taskCounts.total)})`, legend(d.bars.filter((b) => b.outcome !== 'Unknown' || b.count)),
            overviewChart([{ backupLocation: name, namespace, backupLocationExists: true, total: d.taskCounts.total, bars: d.bars }], 360))),
        panel('Events', eventsTable(state, 'events', d.events)),
        panel('Tasks', tasks.el),
      ];
    },

    async backup(state, namespace, name) {
      const d = await api('backups/' + encodeURIComponent(namespace) + '/' + encodeURIComponent(name));
      const related = d.fromSchedule
        ? { label: 'Other runs of ' + d.fromSchedule, base: { namespace, schedule: d.fromSchedule } }
        : { label: 'Manual tasks in this backup location', base: { namespace, backupLocation: d.backupLocation, schedule: '' } };
      const tasks = taskTable(state, 'related', related.base, ['name', 'phase', 'reason', 'started', 'completed'], { limit: 10, title: 'related tasks' });
      await tasks.ready;
      const failed = d.severity === 'critical' || d.severity === 'warning';
      return [
        h('div', { class: 'crumbs' }, h('a', { href: '#/operations' }, 'Backup Operation Status'), ' › ', namespace),
        h('h1', null, h('span', { class: 'kind' }, 'Backup'), name, badge(d.phase, d.severity)),
        h('div', { class: 'grid2' },
          panel('Fields', fields([
            ['Namespace', d.namespace], ['Engine', d.engine], ['Phase', badge(d.phase, d.severity)], ['Raw phase', d.rawPhase],
            ['Backuplocation', h('span', null, vaultLink(d.namespace, d.backupLocation, d.backupLocationSeverity !== null), ' ', d.backupLocationPhase ? badge(d.backupLocationPhase, d.backupLocationSeverity) : null)],
            ['FromSchedule', scheduleLink(d.namespace, d.fromSchedule)], ['BackupType', d.backupType], ['DataType', d.dataType],
            ['Included namespaces', d.includedNamespaces.join(', ')], ['TTL', d.ttl],
            ['Created', time(d.created)], ['Started', time(d.started)], ['Completed', time(d.completed)], ['Expires', time(d.expiration)],
            d.runningSeconds !== null ? ['Running for', duration(d.runningSeconds)] : null,
            ['Errors', d.errors], ['Warnings', d.warnings], ['Reason', d.reason],
          ])),
          h('div', { class: 'stack' },
            panel(d.reason ? 'Why it failed' : 'Message', d.message ? h('pre', { class: 'message' + (failed ? '' : ' neutral') }, d.message) : h('p', { class: 'muted' }, 'No message.')),
            d.twin ? panel('Velero twin', fields([
              ['Phase', badge(d.twin.phase, d.twinSeverity)], ['Errors', d.twin.errors], ['Warnings', d.twin.warnings],
              ['Volume snapshots attempted', d.twin.volumeSnapshotsAttempted], ['Failure reason', d.twin.failureReason],
            ])) : null)),
        panel('Events', eventsTable(state, 'events', d.events)),
        panel(related.label, tasks.el),
      ];
    },

    async schedule(state, namespace, name) {
      const d = await api('schedules/' + encodeURIComponent(namespace) + '/' + encodeURIComponent(name));
      const tasks = taskTable(state, 'runs', { namespace, schedule: name }, ['name', 'phase', 'reason', 'started', 'completed', 'message'], { title: 'runs' });
      await tasks.ready;
      return [
        h('div', { class: 'crumbs' }, h('a', { href: '#/health' }, 'Backup Health'), ' › ', namespace),
        h('h1', null, h('span', { class: 'kind' }, 'Schedule'), name, badge(d.phase, d.severity), d.paused ? h('span', { class: 'tag' }, 'paused') : null),
        h('div', { class: 'grid2' },
          panel('Fields', fields([
            ['Namespace', d.namespace], ['Engine', d.engine], ['Cron', h('span', { class: 'mono' }, d.cron)],
            ['Interval', duration(d.intervalSeconds)], ['Paused', d.paused ? 'yes' : 'no'],
            ['Phase', badge(d.phase, d.severity)], ['Raw phase', d.rawPhase], ['Backuplocation', vaultLink(d.namespace, d.backupLocation)],
            ['BackupType', d.backupType], ['Created', time(d.created)], ['Backups', d.backups],
            ['Last backup (status)', time(d.statusLastBackup)],
          ])),
          h('div', { class: 'stack' },
            panel('RPO', fields([
              ['Last success', time(d.lastSuccess)], ['Since last success', duration(d.secondsSinceLastSuccess)],
              ['Against the interval', rpoBar(d)], ['Newest task', badge(d.lastBackupOutcome, d.lastBackupSeverity)],
            ])),
            d.problem ? panel('Why it cannot run', h('pre', { class: 'message' }, d.problem)) : null)),
        panel('Events', eventsTable(state, 'events', d.events)),
        panel('Runs', tasks.el),
      ];
    },

    async component(state, namespace, name) {
      const d = await api('components/' + encodeURIComponent(namespace) + '/' + encodeURIComponent(name));
      const containerRows = d.podStates.flatMap((p) => p.containers.map((c) => Object.assign({ pod: p }, c)));
      return [
        h('div', { class: 'crumbs' }, h('a', { href: '#/addons' }, 'Addon Status'), ' › ', namespace),
        h('h1', null, h('span', { class: 'kind' }, 'Component'), name, badge(d.status, d.severity)),
        h('div', { class: 'grid2' },
          panel('Fields', fields([
            ['Namespace', d.namespace], ['Engine', d.engine], ['Kind', d.kind], ['Workload', d.workload],
            ['Status', badge(d.status, d.severity)], ['Created', time(d.created)], ['Age', duration(d.ageSeconds)],
            ['Pods ready', `${d.podsReady}/${d.podsDesired}`], ['Restarts', d.restarts], ['Last termination', d.lastTerminationReason],
          ])),
          panel('Containers (declared)', localTable(state, 'containers', [
            { label: 'Container', value: (c) => c.name },
            { label: 'Image', value: (c) => c.image, msg: true },
            { label: 'CPU Request', value: (c) => c.cpuRequest, cell: (c) => cores(c.cpuRequest), num: true },
            { label: 'CPU Limit', value: (c) => c.cpuLimit, cell: (c) => cores(c.cpuLimit), num: true },
            { label: 'Memory Request', value: (c) => c.memoryRequest, cell: (c) => bytes(c.memoryRequest), num: true },
            { label: 'Memory Limit', value: (c) => c.memoryLimit, cell: (c) => bytes(c.memoryLimit), num: true },
          ], d.containers, { empty: 'No workload found.', title: 'containers' }))),
        panel('Pods', localTable(state, 'pods', [
          { label: 'Pod', value: (c) => c.pod.name },
          { label: 'Node', value: (c) => c.pod.node },
          { label: 'Phase', value: (c) => c.pod.phase, cell: (c) => badge(c.pod.phase, c.pod.severity) },
          { label: 'Container', value: (c) => c.name },
          { label: 'Ready', value: (c) => (c.ready ? 'yes' : 'no') },
          { label: 'Restarts', value: (c) => c.restarts, num: true },
          { label: 'Waiting', value: (c) => c.waitingReason },
          { label: 'Last termination', value: (c) => c.lastTerminationReason },
          { label: 'Exit code', value: (c) => c.lastTerminationExitCode, num: true },
          { label: 'Finished', value: (c) => c.lastTerminationFinished, cell: (c) => time(c.lastTerminationFinished) },
        ], containerRows, { empty: 'No pod found.', title: 'pods' })),
        panel('Events', eventsTable(state, 'events', d.events)),
      ];
    },
  };

  // ---- routing and refresh ----------------------------------------------------------------

  function parseRoute() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map((p) => {
      try { return decodeURIComponent(p); } catch (e) { return p; }
    });
    const page = parts[0] || 'locations';
    return { page, args: parts.slice(1), key: location.hash || '#/locations' };
  }

  async function refreshInfo() {
    const info = await api('info');
    now = info.now;
    document.getElementById('asof').textContent = (info.snapshot ? 'snapshot as of ' : 'as of ') + time(info.now);
  }

  async function render() {
    const ticket = ++rendering;
    const r = parseRoute();
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('current', a.dataset.page === r.page);
    }
    const handler = Object.prototype.hasOwnProperty.call(pages, r.page) ? pages[r.page] : null;
    const state = views.get(r.key) || {};
    views.set(r.key, state);
    let content;
    try {
      await refreshInfo();
      if (!handler) throw new Error('No page ' + JSON.stringify(r.page) + '.');
      const needed = { backuplocation: 2, backup: 2, schedule: 2, component: 2 }[r.page] || 0;
      if (r.args.length < needed) throw new Error('This page needs a namespace and a name.');
      content = await handler(state, ...r.args);
    } catch (e) {
      content = [h('h1', null, 'Not available'), h('p', { class: 'error' }, String(e.message || e))];
    }
    if (ticket !== rendering) return;
    // Keep the cursor in a filter box across a refresh.
    const active = document.activeElement;
    const focusId = active && active.id && active.id.startsWith('filter-') ? active.id : null;
    const caret = focusId ? [active.selectionStart, active.selectionEnd] : null;
    main.replaceChildren(...[content].flat(Infinity).filter(Boolean));
    document.title = (main.querySelector('h1') ? main.querySelector('h1').textContent + ' · ' : '') + 'backupscope';
    if (focusId) {
      const again = document.getElementById(focusId);
      if (again) { again.focus(); again.setSelectionRange(caret[0], caret[1]); }
    }
    main.setAttribute('data-rendered', String(ticket));
  }

  document.getElementById('period').textContent = REFRESH_MS / 1000 + ' s';
  window.addEventListener('hashchange', () => { window.scrollTo(0, 0); render(); });
  setInterval(() => {
    const on = document.getElementById('autorefresh');
    if (on && on.checked && document.visibilityState === 'visible') render();
  }, REFRESH_MS);
  render();
})();
