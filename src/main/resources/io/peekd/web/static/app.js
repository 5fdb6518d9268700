// peekd dashboard. Every view is one call to the JSON API (docs/web.md); the page state lives
// in the URL hash so that any view can be bookmarked or shared. Data is only ever put into the
// page as text (textContent), never as HTML.
'use strict';
(() => {
  // Marks read by bench/web-bench.sh to show where the first render's time goes.
  performance.mark('app.js');
  const $ = (id) => document.getElementById(id);
  const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  const bytes = (n) => {
    if (n == null) return '–';
    if (Math.abs(n) < 1024) return n + ' B';
    let v = n, u = 0;
    while (Math.abs(v) >= 1024 && u < IEC.length - 1) { v /= 1024; u++; }
    return v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) + ' ' + IEC[u];
  };
  // One formatter for the page: toLocaleString() builds a new one on every call.
  const numFmt = new Intl.NumberFormat();
  const num = (n) => n == null ? '–' : numFmt.format(n);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const fmtTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const fmtShort = new Intl.DateTimeFormat(undefined, { month: '2-digit', day: '2-digit', hour: '2-digit',
    minute: '2-digit', hourCycle: 'h23' });
  const time = (epoch) => epoch == null ? '–' : fmtTime.format(new Date(epoch * 1000));
  const offsetText = () => {
    const m = -new Date().getTimezoneOffset();
    const s = m >= 0 ? '+' : '-', a = Math.abs(m);
    return 'UTC' + s + String(Math.floor(a / 60)).padStart(2, '0') + ':' + String(a % 60).padStart(2, '0');
  };
  // The flag emoji, followed by the code for systems without an emoji font.
  const flag = (cc) => cc && /^[A-Z]{2}$/.test(cc)
    ? String.fromCodePoint(...[...cc].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65)) + '\u00a0' + cc : '';
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k != null) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  };
  const val = (v) => v == null || v === '' ? el('span', { class: 'null', text: '(none)' }) : String(v);
  const LABELS = { exe: 'Executable', name: 'Name', cmdline: 'Command line', sha256: 'SHA-256', pexe: 'Parent',
    pname: 'Parent name', pcmdline: 'Parent command', psha256: 'Parent SHA-256', pid: 'PID', uid: 'UID',
    user: 'User', container: 'Container', proto: 'Protocol', family: 'IP version', laddr: 'Local address',
    lport: 'Local port', raddr: 'Remote address', rport: 'Remote port', domain: 'Domain' };

  // ---- state <-> URL hash --------------------------------------------------------------
  const S = { since: null, from: null, to: null, by: 'exe', bucket: 'auto', view: 'groups', auto: true,
    filters: [], panel: null };
  let meta = null;

  function readHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    S.since = h.get('since'); S.from = h.get('from'); S.to = h.get('to');
    if (!S.since && !S.from) S.since = defaultSince();
    S.by = h.get('by') || 'exe';
    S.bucket = h.get('bucket') || 'auto';
    S.view = h.get('view') || 'groups';
    S.auto = h.get('auto') !== '0';
    S.filters = h.getAll('f').map((f) => { const i = f.indexOf(':'); return [f.slice(0, i), f.slice(i + 1)]; })
      .filter(([d]) => LABELS[d]);
    const p = h.get('panel');
    S.panel = p ? [p.slice(0, p.indexOf(':')), p.slice(p.indexOf(':') + 1)] : null;
  }

  // The configured default (web.default_since) as one of the menu's ranges when it is one ("1d" is "24h").
  const PRESETS = { '15m': 900, '1h': 3600, '6h': 21600, '24h': 86400, '7d': 604800, '30d': 2592000 };
  function defaultSince() {
    if (!meta) return '24h';
    const hit = Object.entries(PRESETS).find(([, s]) => s === meta.default_since_seconds);
    return hit ? hit[0] : meta.default_since;
  }

  function writeHash() {
    const h = new URLSearchParams();
    if (S.from) { h.set('from', S.from); if (S.to) h.set('to', S.to); } else h.set('since', S.since);
    h.set('by', S.by);
    if (S.bucket !== 'auto') h.set('bucket', S.bucket);
    h.set('view', S.view);
    if (!S.auto) h.set('auto', '0');
    for (const [d, v] of S.filters) h.append('f', d + ':' + v);
    if (S.panel) h.set('panel', S.panel[0] + ':' + S.panel[1]);
    const next = '#' + h.toString();
    if (location.hash !== next) history.replaceState(null, '', next);
  }

  const rangeQuery = () => {
    const q = new URLSearchParams();
    if (S.from) { q.set('from', S.from); if (S.to) q.set('to', S.to); } else q.set('since', S.since);
    return q;
  };
  const filterQuery = (extra) => {
    const q = rangeQuery();
    for (const [d, v] of S.filters) q.append(d, v);
    if (extra) for (const [k, v] of Object.entries(extra)) q.append(k, v);
    return q;
  };

  // ---- API ------------------------------------------------------------------------------
  async function api(path, q) {
    const r = await fetch(path + (q ? '?' + q.toString() : ''), { headers: { Accept: 'application/json' } });
    const body = await r.json().catch(() => ({ error: 'bad answer from the server (' + r.status + ')' }));
    if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
    return body;
  }
  async function post(path, data) {
    const r = await fetch(path, { method: 'POST', body: JSON.stringify(data),
      headers: { 'Content-Type': 'application/json', 'X-Peekd-Csrf': meta.csrf } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
    return body;
  }
  function showError(e) {
    const box = $('error');
    if (!e) { box.hidden = true; box.textContent = ''; return; }
    box.hidden = false; box.textContent = String(e.message || e);
  }

  // ---- reverse DNS ----------------------------------------------------------------------
  // PTR names are asked for after a table is drawn (lookups can take seconds), for the
  // addresses it shows, and written into its <span data-ptr="ADDR"> cells when they arrive.
  const ptrNames = new Map(); // address -> name, or null for "no name"
  const ptrCell = (addr) => {
    const span = el('span', { class: 'ptr', 'data-ptr': addr || '' });
    if (addr && ptrNames.has(addr)) span.textContent = ptrNames.get(addr) || '';
    return span;
  };
  function fillPtr() {
    document.querySelectorAll('span[data-ptr]').forEach((s) => {
      const a = s.dataset.ptr;
      if (a && ptrNames.has(a)) { s.textContent = ptrNames.get(a) || ''; s.title = ptrNames.get(a) ? 'reverse DNS of ' + a : 'no reverse DNS name'; }
    });
  }
  async function resolvePtr(addrs, again = 2) {
    if (!meta.reverse_dns) return;
    const want = [...new Set(addrs.filter((a) => a && !ptrNames.has(a)))];
    if (!want.length) { fillPtr(); return; }
    for (let i = 0; i < want.length; i += 100) {
      const q = new URLSearchParams(want.slice(i, i + 100).map((a) => ['addr', a]));
      try {
        const r = await api('/api/hostnames', q);
        for (const [a, n] of Object.entries(r.names)) ptrNames.set(a, n);
      } catch (e) { return; } // names are extra: a failure leaves the cells empty
    }
    fillPtr();
    // Lookups still running on the server are asked for again a little later.
    if (again > 0 && want.some((a) => !ptrNames.has(a))) setTimeout(() => resolvePtr(want, again - 1), 2000);
  }

  // ---- charts ---------------------------------------------------------------------------
  const charts = {};
  const dark = () => document.documentElement.dataset.theme === 'dark';
  // ECharts is loaded only when the first chart is drawn, after the cards and the table: running
  // it takes a few hundred ms of the main thread, and so did a <link rel=preload> of it in
  // Chromium (first render 0.68-0.81x of loading it up front, against 0.54-0.72x without; docs/web.md).
  let chartLib = null;
  function loadCharts() {
    chartLib = chartLib || new Promise((resolve, reject) => {
      if (window.echarts) { resolve(); return; }
      const s = document.createElement('script');
      s.src = document.querySelector('meta[name=peekd-charts]').content;
      s.onload = () => resolve();
      s.onerror = () => { chartLib = null; reject(new Error('The chart library could not be loaded; reload the page.')); };
      document.head.append(s);
    });
    return chartLib;
  }
  function chart(id) {
    if (!charts[id]) {
      charts[id] = echarts.init($(id), dark() ? 'dark' : null, { renderer: 'canvas' });
      charts[id].group = id === 'ch-slide' || id === 'ch-ports' ? null : 'time';
    }
    return charts[id];
  }
  function resetCharts() {
    for (const k of Object.keys(charts)) { charts[k].dispose(); delete charts[k]; }
  }
  const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;',
    '"': '&quot;', "'": '&#39;' }[c]));
  const seriesName = (k) => k == null ? 'other' : k === '' ? '(none)' : k;
  function tooltip(params) {
    // ECharts renders tooltips as HTML: everything from the data is escaped here.
    const list = Array.isArray(params) ? params : [params];
    if (!list.length) return '';
    const head = escapeHtml(time(list[0].value[0] / 1000));
    const rows = list.filter((p) => p.value[1]).sort((a, b) => b.value[1] - a.value[1]).slice(0, 12)
      .map((p) => p.marker + escapeHtml(p.seriesName) + ': <b>' + escapeHtml(bytes(p.value[1])) + '</b>');
    return head + '<br>' + rows.join('<br>');
  }
  function timeAxisOption(ts, type, pick, withZoom) {
    const series = ts.series.map((s) => ({
      // Down-sampling each series on its own would misalign a stack of bars; lines may.
      name: seriesName(s.key), type, stack: 'all', symbol: 'none', sampling: type === 'line' ? 'lttb' : undefined,
      barMaxWidth: 24, barMinWidth: 1,
      areaStyle: type === 'line' ? { opacity: 0.55 } : undefined, lineStyle: { width: 1 },
      emphasis: { focus: 'series' },
      data: ts.times.map((t, i) => [t * 1000, pick(s, i)]),
    }));
    return {
      animation: false, backgroundColor: 'transparent',
      // The right margin holds half of a time label centred on a tick near the edge.
      grid: { left: 64, right: 44, top: 28, bottom: withZoom ? 56 : 24 },
      legend: { type: 'scroll', top: 0, textStyle: { fontSize: 11 } },
      tooltip: { trigger: 'axis', formatter: tooltip, confine: true },
      xAxis: { type: 'time', axisLabel: { formatter: (v) => fmtShort.format(new Date(v)), hideOverlap: true } },
      yAxis: { type: 'value', axisLabel: { formatter: axisBytes }, ...iecScale(stackTop(ts, pick, -Infinity, Infinity)) },
      dataZoom: withZoom ? [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 6 }] : [{ type: 'inside' }],
      series,
    };
  }
  // Byte axes step at round binary amounts (250 KiB, 1 MiB, 2.5 MiB), not at ECharts'
  // decimal ones, which read as 977 KiB and 1.91 MiB; about four steps to the top.
  const IEC_STEPS = [1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1024];
  function iecScale(top) {
    if (!(top > 0)) return { min: 0, max: 4, interval: 1 };
    let unit = 1;
    while (unit * 1024 <= top / 4) unit *= 1024;
    const raw = top / 4 / unit;
    const interval = (IEC_STEPS.find((m) => m >= raw) || 1024) * unit;
    return { min: 0, max: Math.ceil(top / interval) * interval, interval };
  }
  const axisBytes = (v) => bytes(v).replace(/\.(\d*?)0+ /, '.$1 ').replace('. ', ' ');
  // The highest stacked bucket whose time (ms) is within [lo, hi].
  function stackTop(ts, pick, lo, hi) {
    let top = 0;
    ts.times.forEach((t, i) => {
      if (t * 1000 < lo || t * 1000 > hi) return;
      let sum = 0;
      for (const s of ts.series) sum += pick(s, i);
      if (sum > top) top = sum;
    });
    return top;
  }
  const TIME_CHARTS = {
    'ch-sent': ['line', (s, i) => s.sent[i], false],
    'ch-recv': ['line', (s, i) => s.recv[i], false],
    'ch-bars': ['bar', (s, i) => s.sent[i] + s.recv[i], true],
  };
  let shownSeries = null;
  // A fixed interval does not follow a zoom by itself: each zoom sets the scale of the
  // buckets now in view, on all three charts (they zoom together).
  function rescaleToZoom(ts, zoomed) {
    const zoom = zoomed.getOption().dataZoom[0];
    const t0 = ts.times.length ? ts.times[0] * 1000 : 0, t1 = ts.times.length ? ts.times[ts.times.length - 1] * 1000 : 0;
    const lo = zoom.startValue ?? t0 + (t1 - t0) * (zoom.start ?? 0) / 100;
    const hi = zoom.endValue ?? t0 + (t1 - t0) * (zoom.end ?? 100) / 100;
    for (const [id, [, pick]] of Object.entries(TIME_CHARTS))
      chart(id).setOption({ yAxis: iecScale(stackTop(ts, pick, lo, hi)) });
  }
  function renderCharts(ts) {
    $('bucketlabel').textContent = '· ' + bucketText(ts.bucket) + ' buckets, grouped by ' + (LABELS[S.by] || S.by);
    shownSeries = ts;
    for (const [id, [type, pick, withZoom]] of Object.entries(TIME_CHARTS)) {
      const c = chart(id);
      c.setOption(timeAxisOption(ts, type, pick, withZoom), true);
      c.off('datazoom');
      c.on('datazoom', () => rescaleToZoom(shownSeries, c));
    }
    echarts.connect('time'); // zooming one chart zooms all three
  }
  const bucketText = (b) => b % 86400 === 0 ? (b / 86400) + ' d' : b % 3600 === 0 ? (b / 3600) + ' h'
    : b % 60 === 0 ? (b / 60) + ' min' : b + ' s';
  function renderPorts(g) {
    const top = g.groups.slice(0, 10).reverse();
    const c = chart('ch-ports');
    c.setOption({
      animation: false, backgroundColor: 'transparent',
      grid: { left: 64, right: 24, top: 8, bottom: 24 },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, valueFormatter: (v) => bytes(v) },
      legend: { show: false },
      xAxis: { type: 'value', axisLabel: { formatter: axisBytes, hideOverlap: true },
        ...iecScale(Math.max(0, ...top.map((x) => x.sent + x.recv))) },
      yAxis: { type: 'category', data: top.map((x) => x.key.rport == null || x.key.rport < 0 ? '(none)' : String(x.key.rport)) },
      series: [
        { name: 'sent', type: 'bar', stack: 'p', data: top.map((x) => x.sent), itemStyle: { color: '#3b82f6' } },
        { name: 'received', type: 'bar', stack: 'p', data: top.map((x) => x.recv), itemStyle: { color: '#16a34a' } },
      ],
    }, true);
    c.off('click');
    c.on('click', (p) => { const port = top[p.dataIndex].key.rport; if (port != null && port >= 0) addFilter('rport', String(port)); });
  }

  // ---- summary, tables ------------------------------------------------------------------
  function renderSummary(s) {
    $('c-sent').textContent = bytes(s.sent);
    $('c-recv').textContent = bytes(s.recv);
    $('c-conns').textContent = num(s.conns);
    // Exact values next to the human ones: tooltips and tests read them.
    for (const [id, v] of [['c-sent', s.sent], ['c-recv', s.recv], ['c-conns', s.conns]]) { $(id).dataset.v = v; $(id).title = num(v) + (id === 'c-conns' ? '' : ' bytes'); }
    $('c-procs').textContent = num(s.processes);
    $('c-remotes').textContent = num(s.remotes);
    $('foot').textContent = 'Showing ' + time(s.from) + ' to ' + time(s.to) + ' (' + zone + ', ' + offsetText() + '), '
      + num(s.rows) + ' stored rows. Data: ' + meta.database + '.';
  }

  let groupRows = [];
  const colFilters = {};
  function renderGroups(g) {
    groupRows = g.groups;
    const t = $('t-groups');
    t.replaceChildren();
    const dims = g.by;
    const head = el('tr', null, ...dims.map((d) => el('th', { text: LABELS[d] || d })),
      el('th', { class: 'num', text: 'Sent' }), el('th', { class: 'num', text: 'Received' }),
      el('th', { class: 'num', text: 'Total' }), el('th', { class: 'num', text: 'Conns' }),
      el('th', { text: 'First seen' }), el('th', { text: 'Last seen' }));
    const filters = el('tr', { class: 'filters' }, ...dims.map((d) => el('th', null, el('input', {
      class: 'colfilter', placeholder: 'filter…', 'aria-label': 'filter ' + d, 'data-col': d,
      value: colFilters[d] || '', oninput: (e) => { colFilters[d] = e.target.value; fillGroups(dims); } }))),
      el('th'), el('th'), el('th'), el('th'), el('th'), el('th'));
    t.append(el('thead', null, head, filters), el('tbody'));
    fillGroups(dims);
  }
  function fillGroups(dims) {
    const body = $('t-groups').tBodies[0];
    body.replaceChildren();
    const shown = groupRows.filter((r) => dims.every((d) => {
      const f = (colFilters[d] || '').toLowerCase();
      return !f || String(r.key[d] ?? '').toLowerCase().includes(f);
    }));
    for (const r of shown) {
      const cells = dims.map((d) => {
        const v = r.key[d];
        const td = el('td', { title: v == null ? '' : String(v) }, val(v));
        if (d === 'raddr' && meta.countries && meta.countries[v]) td.prepend(el('span', { class: 'flag', text: flag(meta.countries[v]) }));
        if (d === 'raddr' && v && meta.reverse_dns) td.append(' ', ptrCell(v));
        return td;
      });
      body.append(el('tr', { class: 'click', 'data-key': JSON.stringify(r.key), onclick: () => drill(dims, r.key) },
        ...cells, el('td', { class: 'num', 'data-v': r.sent, title: num(r.sent) + ' bytes', text: bytes(r.sent) }),
        el('td', { class: 'num', 'data-v': r.recv, title: num(r.recv) + ' bytes', text: bytes(r.recv) }),
        el('td', { class: 'num', text: bytes(r.sent + r.recv) }), el('td', { class: 'num', text: num(r.conns) }),
        el('td', { text: time(r.first) }), el('td', { text: time(r.last) })));
    }
    if (!shown.length) body.append(el('tr', null, el('td', { colspan: dims.length + 6, class: 'muted', text: 'No traffic in this range.' })));
    if (dims.includes('raddr')) resolvePtr(shown.map((r) => r.key.raddr));
  }

  function renderDestinations(d) {
    const t = $('t-dest');
    const ptr = meta.reverse_dns;
    t.replaceChildren(el('thead', null, el('tr', null, el('th', { text: 'Remote address' }),
      el('th', { text: 'Host name', title: 'the name the process connected to (DNS, TLS SNI, HTTP Host...)' }),
      ptr ? el('th', { text: 'Reverse DNS', title: 'the PTR name of the address' }) : null, el('th', { text: 'Ports' }), el('th', { text: 'Protocols' }), el('th', { class: 'num', text: 'Sent' }),
      el('th', { class: 'num', text: 'Received' }), el('th', { class: 'num', text: 'Conns' }),
      el('th', { class: 'num', text: 'Processes' }), el('th', { text: 'Last seen' }))));
    const body = el('tbody');
    for (const x of d.destinations) {
      const cc = d.countries[x.raddr];
      const addr = el('td', { title: x.raddr || '' }, cc ? el('span', { class: 'flag', title: cc, text: flag(cc) }) : null, val(x.raddr));
      const subs = x.processes.map((p) => el('tr', { class: 'sub click', hidden: true, onclick: () => drill(['exe'], { exe: p.exe }) },
        el('td', { title: p.exe || '' }, val(p.exe)), el('td', { text: p.name || '' }), ptr ? el('td') : null, el('td'), el('td'),
        el('td', { class: 'num', text: bytes(p.sent) }), el('td', { class: 'num', text: bytes(p.recv) }),
        el('td', { class: 'num', text: num(p.conns) }), el('td'), el('td')));
      if (x.more) {
        // The server lists the largest processes by name and sums the rest.
        subs.push(el('tr', { class: 'sub', hidden: true },
          el('td', { class: 'muted', text: '\u2026 ' + x.more.name + ' process' + (x.process_count - x.processes.length === 1 ? '' : 'es') }),
          el('td'), ptr ? el('td') : null, el('td'), el('td'),
          el('td', { class: 'num', text: bytes(x.more.sent) }), el('td', { class: 'num', text: bytes(x.more.recv) }),
          el('td', { class: 'num', text: num(x.more.conns) }), el('td'), el('td')));
      }
      const row = el('tr', { class: 'click', title: 'show the processes', onclick: () => subs.forEach((s) => { s.hidden = !s.hidden; }) },
        addr, el('td', null, val(x.domain)), ptr ? el('td', null, ptrCell(x.raddr)) : null, el('td', { text: x.ports || '' }), el('td', { text: x.protos || '' }),
        el('td', { class: 'num', text: bytes(x.sent) }), el('td', { class: 'num', text: bytes(x.recv) }),
        el('td', { class: 'num', text: num(x.conns) }), el('td', { class: 'num', text: '▸ ' + x.process_count }),
        el('td', { text: time(x.last) }));
      body.append(row, ...subs);
    }
    if (!d.destinations.length) body.append(el('tr', null, el('td', { colspan: ptr ? 10 : 9, class: 'muted', text: 'No traffic in this range.' })));
    t.append(body);
    resolvePtr(d.destinations.map((x) => x.raddr));
  }

  function renderTree(tree) {
    const root = $('tree');
    root.replaceChildren();
    const node = (p) => {
      const label = el('span', { class: 'node' + (p.placeholder ? ' ph' : ''), title: p.exe || p.name || '',
        onclick: (e) => { e.stopPropagation(); if (p.exe) drill(['exe'], { exe: p.exe }); } },
        el('b', { text: p.name || '(unknown)' }), el('span', { text: p.exe || '' }),
        el('span', { class: 'bytes', text: '↑ ' + bytes(p.sent) + '  ↓ ' + bytes(p.recv) + (p.pids ? '  · ' + p.pids + ' pid' + (p.pids > 1 ? 's' : '') : '') }));
      const li = el('li', null, label);
      if (p.children.length) li.append(el('ul', null, ...p.children.map(node)));
      return li;
    };
    tree.forEach((p) => root.append(node(p)));
    if (!tree.length) root.append(el('li', { class: 'muted', text: 'No traffic in this range.' }));
  }

  function renderAlerts(a) {
    $('alertcount').textContent = a.alerts.length ? '(' + a.alerts.length + ')' : '';
    $('alertnote').textContent = a.available ? '' : 'No alert log: ' + (a.note || 'alerts are not running') + '.';
    const t = $('t-alerts');
    t.replaceChildren(el('thead', null, el('tr', null, ...['Time', 'Rule', 'Flags', 'Executable', 'Remote', 'Action', 'Status']
      .map((h) => el('th', { text: h })))));
    const body = el('tbody');
    for (const x of a.alerts) {
      body.append(el('tr', null, el('td', { text: time(x.time) }), el('td', { text: x.rule }), el('td', { text: x.flags.join(' ') }),
        el('td', { title: x.sha256 || '' }, val(x.exe)), el('td', { text: (x.domain || x.raddr || '') + (x.rport > 0 ? ':' + x.rport : '') }),
        el('td', { text: x.action }), el('td', { text: x.status + (x.detail ? ' — ' + x.detail : '') })));
    }
    if (!a.alerts.length) body.append(el('tr', null, el('td', { colspan: 7, class: 'muted', text: 'No alerts in this range.' })));
    t.append(body);
  }

  async function loadIgnore() {
    const i = await api('/api/ignore');
    $('ignfile').textContent = i.file;
    const box = $('ignlists');
    box.replaceChildren();
    if (i.error) { box.append(el('p', { class: 'error', text: i.error })); return; }
    const names = { ips: 'IP addresses / networks', domains: 'Domains', ports: 'Ports', sha256: 'Executables (sha256)' };
    for (const kind of ['ips', 'domains', 'ports', 'sha256']) {
      const ul = el('ul', { 'data-kind': kind });
      for (const v of i[kind]) {
        ul.append(el('li', null, el('span', { title: String(v), text: String(v) }),
          el('button', { type: 'button', 'data-remove': kind + ':' + v, 'aria-label': 'remove ' + v,
            onclick: () => changeIgnore('remove', kind, String(v)) }, 'Remove')));
      }
      if (!i[kind].length) ul.append(el('li', { class: 'muted', text: 'none' }));
      box.append(el('div', { class: 'panel' }, el('h2', { text: names[kind] }), ul));
    }
  }
  async function changeIgnore(op, kind, value) {
    try {
      await post('/api/ignore', { op, kind, value });
      showError(null);
      await loadIgnore();
    } catch (e) { showError(e); }
  }

  // ---- drill-down and the slide-in panel ------------------------------------------------
  function addFilter(d, v) {
    if (!S.filters.some(([a, b]) => a === d && b === v)) S.filters.push([d, v]);
    refresh();
  }
  function drill(dims, key) {
    for (const d of dims) {
      const v = key[d];
      if (!S.filters.some(([a]) => a === d)) S.filters.push([d, v == null ? '' : String(v)]);
    }
    const d0 = dims[0];
    S.panel = [d0, key[d0] == null ? '' : String(key[d0])];
    if (S.by === d0 && d0 === 'exe') S.by = 'raddr';
    syncControls();
    refresh();
  }
  function renderChips() {
    const box = $('chips');
    box.replaceChildren();
    S.filters.forEach(([d, v], i) => box.append(el('span', { class: 'chip', 'data-filter': d },
      el('span', { title: v, text: (LABELS[d] || d) + ' = ' + (v === '' ? '(none)' : v) }),
      el('button', { type: 'button', 'aria-label': 'remove filter', onclick: () => {
        S.filters.splice(i, 1);
        if (S.panel && S.panel[0] === d) S.panel = null;
        refresh();
      } }, '✕'))));
  }

  async function renderPanel() {
    const slide = $('slide');
    if (!S.panel) { slide.hidden = true; return; }
    const [d, v] = S.panel;
    slide.hidden = false;
    $('slidetitle').textContent = (LABELS[d] || d) + ': ' + (v === '' ? '(none)' : v);
    $('detail').hidden = true;
    const q = rangeQuery();
    q.append(d, v);
    const [ts] = await Promise.all([api('/api/timeseries', new URLSearchParams([...q, ['by', 'raddr'], ['series', '6']])),
      loadCharts()]);
    const c = chart('ch-slide');
    c.setOption(timeAxisOption(ts, 'bar', (s, i) => s.sent[i] + s.recv[i], false), true);
    const flows = await api('/api/flows', new URLSearchParams([...q, ['limit', '200']]));
    const t = $('t-conns');
    t.replaceChildren(el('thead', null, el('tr', null, ...['Time', 'PID', 'Proto', 'Remote', 'Domain', 'Sent', 'Received']
      .map((h, i) => el('th', { class: i >= 5 ? 'num' : null, text: h })))));
    const body = el('tbody');
    for (const r of flows.rows) {
      const cc = flows.countries[r.raddr];
      body.append(el('tr', { class: 'click', onclick: () => showDetail(r, cc) }, el('td', { text: time(Date.parse(r.time) / 1000) }),
        el('td', { text: String(r.pid) }), el('td', { text: r.proto || '' }),
        el('td', null, cc ? el('span', { class: 'flag', text: flag(cc) }) : null, r.raddr ? r.raddr + (r.rport > 0 ? ':' + r.rport : '') : val(null)),
        el('td', null, val(r.domain)), el('td', { class: 'num', text: bytes(r.sent) }), el('td', { class: 'num', text: bytes(r.recv) })));
    }
    if (!flows.rows.length) body.append(el('tr', null, el('td', { colspan: 7, class: 'muted', text: 'No connections in this range.' })));
    t.append(body);
    // Retention keeps single connections for retention_days; the chart's sums go back further.
    $('keptnote').hidden = flows.kept_from == null;
    $('keptnote').textContent = flows.kept_from == null ? ''
      : 'Connections are kept from ' + time(flows.kept_from) + ' on (database.retention_days); the chart above covers the whole range.';
  }
  function showDetail(r, cc) {
    const box = $('detail');
    box.hidden = false;
    const dl = el('dl');
    for (const [k, v] of Object.entries(r)) {
      const shown = k === 'time' ? time(Date.parse(v) / 1000) + ' (' + v + ')' : (v == null ? '(none)' : String(v));
      dl.append(el('dt', { text: k }), el('dd', { text: shown }));
    }
    if (cc) dl.append(el('dt', { text: 'country' }), el('dd', { text: flag(cc) }));
    if (r.raddr && meta.reverse_dns) {
      dl.append(el('dt', { text: 'reverse DNS' }), el('dd', null, ptrCell(r.raddr)));
      resolvePtr([r.raddr]);
    }
    const actions = el('div', { class: 'actions' });
    if (r.raddr) actions.append(el('button', { type: 'button', onclick: () => changeIgnore('add', 'ips', r.raddr) }, 'Ignore ' + r.raddr));
    if (r.domain) actions.append(el('button', { type: 'button', onclick: () => changeIgnore('add', 'domains', r.domain) }, 'Ignore ' + r.domain));
    if (r.rport > 0) actions.append(el('button', { type: 'button', onclick: () => changeIgnore('add', 'ports', String(r.rport)) }, 'Ignore port ' + r.rport));
    if (r.sha256 && /^[0-9a-f]{64}$/.test(r.sha256)) actions.append(el('button', { type: 'button', onclick: () => changeIgnore('add', 'sha256', r.sha256) }, 'Ignore this executable'));
    box.replaceChildren(el('h3', { text: 'Connection detail' }), dl, actions);
  }

  // ---- live feed ------------------------------------------------------------------------
  const liveRows = new Map();
  let liveSource = null;
  function startLive() {
    if (liveSource) liveSource.close();
    liveSource = new EventSource('/api/live');
    liveSource.addEventListener('hello', (e) => {
      $('livedot').classList.add('on');
      const mode = JSON.parse(e.data).mode;
      $('livenote').textContent = mode === 'daemon'
        ? 'Connections of the daemon\u2019s current and last windows, newest first (updated every second).'
        : 'Connections as they reach the database, newest first (checked every second).';
    });
    liveSource.onerror = () => $('livedot').classList.remove('on');
    const onRows = (e) => {
      const m = JSON.parse(e.data);
      const now = Date.now();
      for (const r of m.rows) {
        const k = [r.exe, r.pid, r.proto, r.raddr, r.rport].join('|');
        const had = liveRows.get(k);
        liveRows.set(k, { r, seen: now, fresh: !had });
      }
      for (const [k, v] of liveRows) if (now - v.seen > 120000) liveRows.delete(k);
      renderLive();
    };
    liveSource.addEventListener('live', onRows);
    liveSource.addEventListener('stored', onRows);
  }
  function renderLive() {
    $('livecount').textContent = liveRows.size ? '(' + liveRows.size + ')' : '';
    const t = $('t-live');
    const rows = [...liveRows.values()].sort((a, b) => b.seen - a.seen || (b.r.sent + b.r.recv) - (a.r.sent + a.r.recv)).slice(0, 200);
    t.replaceChildren(el('thead', null, el('tr', null, ...['Window', 'Process', 'PID', 'User', 'Proto', 'Remote', 'Domain', 'Sent', 'Received']
      .map((h, i) => el('th', { class: i >= 7 ? 'num' : null, text: h })))));
    const body = el('tbody');
    for (const { r, fresh } of rows) {
      body.append(el('tr', { class: 'click' + (fresh ? ' new' : ''), 'data-exe': r.exe || '', onclick: () => drill(['exe'], { exe: r.exe }) },
        el('td', { text: time(r.time) }), el('td', { title: r.exe || '' }, val(r.exe || r.name)), el('td', { text: String(r.pid) }),
        el('td', null, val(r.user)), el('td', { text: r.proto || '' }),
        el('td', null, r.country ? el('span', { class: 'flag', text: flag(r.country) }) : null, r.raddr ? r.raddr + (r.rport > 0 ? ':' + r.rport : '') : val(null)),
        el('td', null, val(r.domain)), el('td', { class: 'num', text: bytes(r.sent) }), el('td', { class: 'num', text: bytes(r.recv) })));
    }
    if (!rows.length) body.append(el('tr', null, el('td', { colspan: 9, class: 'muted', text: 'Waiting for traffic…' })));
    t.append(body);
    for (const v of liveRows.values()) v.fresh = false;
  }

  // ---- controls -------------------------------------------------------------------------
  const toLocalInput = (epoch) => {
    const d = new Date(epoch * 1000);
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  };
  const fromLocalInput = (s) => s ? String(Math.floor(new Date(s).getTime() / 1000)) : null;
  function syncControls() {
    const preset = $('preset');
    const known = [...preset.options].some((o) => o.value === S.since);
    preset.value = S.from ? 'custom' : known ? S.since : 'custom';
    $('range').classList.toggle('is-custom', preset.value === 'custom');
    if (S.from) { $('from').value = toLocalInput(+S.from); $('to').value = S.to ? toLocalInput(+S.to) : ''; }
    $('by').value = S.by;
    $('bucket').value = S.bucket;
    $('auto').checked = S.auto;
    document.querySelectorAll('.tabs button').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.view === S.view)));
    document.querySelectorAll('.view').forEach((v) => v.classList.toggle('on', v.id === 'v-' + S.view));
  }

  let seq = 0;
  async function refresh() {
    writeHash();
    syncControls();
    renderChips();
    const my = ++seq;
    document.body.dataset.loading = '1';
    $('csv').href = '/api/export?' + filterQuery().toString();
    try {
      const bucket = S.bucket === 'auto' ? {} : { bucket: S.bucket };
      // All four are asked for at once. The cards and the table are drawn first, as soon as
      // their answers arrive; the charts after them, as drawing charts is the page's dearest work
      // and would otherwise hold up the table when the chart data came first.
      const mine = (fn) => (x) => { if (my === seq) fn(x); };
      const summaryDone = api('/api/summary', filterQuery()).then(mine(renderSummary));
      const groupsDone = api('/api/groups', filterQuery({ by: S.by, limit: String(meta.top_limit) }))
        .then(mine((groups) => { meta.countries = groups.countries || {}; renderGroups(groups); }));
      const tsData = api('/api/timeseries', filterQuery({ by: S.by, series: '8', ...bucket }));
      const portsData = api('/api/groups', filterQuery({ by: 'rport', limit: '10' }));
      // Marked as handled here, so a failure while the first two are awaited is not reported twice.
      [tsData, portsData].forEach((p) => p.catch(() => {}));
      await Promise.all([summaryDone, groupsDone]);
      if (my !== seq) return;
      showError(null);
      if (!document.body.dataset.firstRender) performance.mark('first render');
      document.body.dataset.firstRender = document.body.dataset.firstRender || String(Math.round(performance.now()));
      const [ts, ports] = await Promise.all([tsData, portsData, loadCharts()]);
      if (!document.body.dataset.chartsRender) performance.mark('chart data and library');
      if (my !== seq) return;
      renderCharts(ts);
      renderPorts(ports);
      document.body.dataset.chartsRender = document.body.dataset.chartsRender || String(Math.round(performance.now()));
      const [dest, tree, alerts] = await Promise.all([
        api('/api/destinations', filterQuery({ limit: String(meta.top_limit) })),
        api('/api/processes', filterQuery({ limit: String(meta.top_limit) })),
        api('/api/alerts', filterQuery({ limit: '500' })),
      ]);
      if (my !== seq) return;
      renderDestinations(dest);
      renderTree(tree.tree);
      renderAlerts(alerts);
      await loadIgnore();
      await renderPanel();
    } catch (e) {
      if (my === seq) showError(e);
    } finally {
      if (my === seq) {
        document.body.dataset.loading = '0';
        document.body.dataset.seq = String(my);
      }
    }
  }

  function applyTheme(t) {
    document.documentElement.dataset.theme = t;
    try { localStorage.setItem('peekd-theme', t); } catch (e) { /* private mode */ }
    resetCharts();
  }

  async function init() {
    const saved = (() => { try { return localStorage.getItem('peekd-theme'); } catch (e) { return null; } })();
    document.documentElement.dataset.theme = saved || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
    try {
      meta = await api('/api/meta');
      performance.mark('meta');
    } catch (e) { showError(e); document.body.dataset.loading = '0'; return; }
    $('zone').textContent = 'Times: ' + zone + ' (' + offsetText() + ')';
    const by = $('by');
    for (const d of meta.dimensions) by.append(el('option', { value: d, text: LABELS[d] || d }));
    readHash();
    $('preset').addEventListener('change', (e) => {
      if (e.target.value === 'custom') {
        $('range').classList.add('is-custom');
        const now = Math.floor(Date.now() / 1000);
        $('from').value = toLocalInput(now - 86400); $('to').value = toLocalInput(now);
        return;
      }
      S.since = e.target.value; S.from = S.to = null; refresh();
    });
    $('range').addEventListener('submit', (e) => {
      e.preventDefault();
      const f = fromLocalInput($('from').value), t = fromLocalInput($('to').value);
      if (!f) { showError('Pick a start date and time.'); return; }
      S.from = f; S.to = t; refresh();
    });
    $('by').addEventListener('change', (e) => { S.by = e.target.value; refresh(); });
    $('bucket').addEventListener('change', (e) => { S.bucket = e.target.value; refresh(); });
    $('auto').addEventListener('change', (e) => { S.auto = e.target.checked; writeHash(); });
    document.querySelectorAll('.tabs button').forEach((b) => b.addEventListener('click', () => {
      S.view = b.dataset.view; writeHash(); syncControls();
      Object.values(charts).forEach((c) => c.resize());
    }));
    $('slideclose').addEventListener('click', () => { S.panel = null; writeHash(); renderPanel(); });
    $('theme').addEventListener('click', () => { applyTheme(dark() ? 'light' : 'dark'); refresh(); });
    $('ignform').addEventListener('submit', (e) => {
      e.preventDefault();
      changeIgnore('add', $('ignkind').value, $('ignvalue').value.trim()).then(() => { $('ignvalue').value = ''; });
    });
    window.addEventListener('hashchange', () => { readHash(); refresh(); });
    window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
    setInterval(() => { if (S.auto && !S.from && document.visibilityState === 'visible') refresh(); },
      Math.max(5, meta.refresh_seconds) * 1000);
    startLive();
    // A page kept in the back/forward cache would hold its live connection open, and browsers
    // allow only six connections per host: close it when the page is hidden, reopen on return.
    window.addEventListener('pagehide', () => { if (liveSource) { liveSource.close(); liveSource = null; } });
    window.addEventListener('pageshow', (e) => { if (e.persisted) startLive(); });
    renderLive();
    await refresh();
  }
  window.peekd = { state: S, refresh, axisBytes };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
