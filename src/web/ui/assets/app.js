// MUTT admin UI: the little the server-rendered pages need in the browser. No inline script anywhere
// (the Content-Security-Policy forbids it); every text from the network is set with textContent.
//
//   status    polls /ui/status every 5 s: a banner says what is down (Redis, PostgreSQL, or MUTT
//             itself), and a page that could not load its data reloads when it is back
//   times     <time datetime> shown relative ("3 min ago"), the absolute time on hover
//   charts    [data-chart] → uPlot, fed from a JSON URL and refreshed
//   tail      the live tail: SSE, batched into one DOM update per frame, bounded, pausable
//   keys      "/" focuses the page's search box
(function () {
  'use strict';
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  // ── relative times ──────────────────────────────────────────────────────────────────────────
  function ago(ms) {
    const s = Math.round((Date.now() - ms) / 1000);
    const a = Math.abs(s);
    const unit =
      a < 60
        ? [a, 's']
        : a < 3600
          ? [Math.round(a / 60), 'min']
          : a < 86400
            ? [Math.round(a / 3600), 'h']
            : [Math.round(a / 86400), 'd'];
    return s >= 0 ? `${unit[0]} ${unit[1]} ago` : `in ${unit[0]} ${unit[1]}`;
  }
  function times(root) {
    for (const t of $$('time[data-rel]', root)) {
      const ms = Date.parse(t.getAttribute('datetime'));
      if (!Number.isNaN(ms)) {
        t.textContent = ago(ms);
        if (!t.title)
          t.title = new Date(ms)
            .toISOString()
            .replace('T', ' ')
            .replace(/\.\d+Z$/, ' UTC');
      }
    }
  }

  // ── status banner ───────────────────────────────────────────────────────────────────────────
  let lastDown = null;
  async function pollStatus() {
    const banner = $('#live-banner');
    if (!banner || !csrf()) return; // signed out: nothing to watch
    let text;
    let healthy = false;
    try {
      const r = await fetch('/ui/status', { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (r.status === 401) {
        window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
        return;
      }
      const s = await r.json();
      const down = [];
      if (s.redis !== 'ok') down.push(`Redis is unreachable (${s.redis})`);
      if (s.postgres !== 'ok' && s.postgres !== 'not used')
        down.push(`PostgreSQL is unreachable (${s.postgres})`);
      text = down.join(' · ');
      healthy = down.length === 0;
    } catch {
      text = 'MUTT is not answering — reconnecting…';
    }
    banner.textContent = text;
    banner.className = text ? 'banner bad' : 'banner';
    if (healthy && lastDown !== null && document.body.dataset.reloadWhenHealthy === 'true') location.reload();
    lastDown = healthy ? null : text;
  }

  // ── charts (uPlot) ──────────────────────────────────────────────────────────────────────────
  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function chart(el) {
    if (typeof window.uPlot !== 'function') return;
    const url = el.dataset.chart;
    const every = Number(el.dataset.refresh || 0);
    const height = Number(el.dataset.height || 180);
    let plot = null;
    // A chart whose data says its span and end (epoch seconds, the server's clock) always shows that
    // window: a node that started a minute ago draws one minute at the right of a 15-minute axis,
    // not a stretched minute.
    let span = 0;
    let end = 0;
    const colours = ['--chart1', '--chart2', '--chart3'];
    async function load() {
      let d;
      try {
        const r = await fetch(url, { cache: 'no-store' });
        if (!r.ok) return;
        d = await r.json();
      } catch {
        return;
      }
      const empty = $('.nodata', el.parentElement);
      const total = d.series.reduce((s, x) => s + x.data.reduce((a, b) => a + (b || 0), 0), 0);
      if (empty) empty.hidden = total > 0;
      const data = [d.x, ...d.series.map((s) => s.data)];
      span = Number(d.span || 0);
      end = Number(d.end || 0);
      if (plot) {
        plot.setData(data);
        return;
      }
      const opts = {
        width: el.clientWidth || 600,
        height,
        legend: { show: d.series.length > 1 },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: {
            time: true,
            range: (u, min, max) => {
              if (!span || !end) return [min, max];
              return [end - span, end];
            },
          },
        },
        axes: [
          { stroke: cssVar('--muted'), grid: { stroke: cssVar('--line') } },
          { stroke: cssVar('--muted'), grid: { stroke: cssVar('--line') }, size: 60 },
        ],
        series: [
          {},
          ...d.series.map((s, i) => ({
            label: s.label,
            stroke: cssVar(colours[i % colours.length]),
            width: 1.5,
            points: { show: false },
          })),
        ],
      };
      plot = new window.uPlot(opts, data, el);
      new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height })).observe(el);
    }
    void load();
    if (every > 0) setInterval(load, every * 1000);
  }

  // ── live tail ───────────────────────────────────────────────────────────────────────────────
  function tail(table) {
    const body = $('tbody', table);
    const status = $('#tail-status');
    const pauseBtn = $('#tail-pause');
    const counter = $('#tail-count');
    const max = Number(table.dataset.max || 300);
    let paused = false;
    let hover = false;
    let pending = [];
    let skipped = 0;
    let shown = 0;
    let frame = 0;
    const setState = (state, text) => {
      status.dataset.state = state;
      status.textContent = text;
    };
    const cell = (tr, text, cls) => {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      td.textContent = text;
      tr.appendChild(td);
      return td;
    };
    function row(e) {
      const tr = document.createElement('tr');
      const t = document.createElement('time');
      t.dateTime = e.received_at || e.timestamp || '';
      t.textContent = (e.received_at || e.timestamp || '').replace('T', ' ').slice(0, 23);
      const td = document.createElement('td');
      td.className = 'mono';
      td.appendChild(t);
      tr.appendChild(td);
      cell(tr, e.hostname);
      cell(tr, e.source || '');
      cell(tr, e.severity === null || e.severity === undefined ? '' : String(e.severity), 'num');
      const msg = cell(tr, '', 'msg');
      const span = document.createElement('span');
      span.className = 'trunc';
      span.textContent = e.message;
      msg.appendChild(span);
      if (e.truncated) {
        const d = document.createElement('details');
        d.className = 'more';
        const s = document.createElement('summary');
        s.textContent = `show all (${e.length.toLocaleString()} characters)`;
        d.appendChild(s);
        const pre = document.createElement('pre');
        pre.textContent = e.full || e.message;
        d.appendChild(pre);
        msg.appendChild(d);
      }
      const dec = e.rule_id === null ? 'unhandled' : `rule ${e.rule_id} · ${e.handling}`;
      cell(tr, dec, e.rule_id === null ? 'muted' : '');
      return tr;
    }
    function flush() {
      frame = 0;
      if (paused || hover || pending.length === 0) return;
      // One frame draws at most 100 rows: the newest; the rest of a burst is counted, not drawn.
      const batch = pending.slice(-100);
      skipped += pending.length - batch.length;
      pending = [];
      const frag = document.createDocumentFragment();
      for (let i = batch.length - 1; i >= 0; i--) frag.appendChild(row(batch[i]));
      body.insertBefore(frag, body.firstChild);
      while (body.rows.length > max) body.deleteRow(body.rows.length - 1);
      shown += batch.length;
      counter.textContent = `${shown.toLocaleString()} shown${skipped ? `, ${skipped.toLocaleString()} skipped (paused, or too many to draw)` : ''}`;
    }
    function onEvents(list) {
      for (const e of list) pending.push(e);
      // Paused: keep the newest `max` only, count the rest.
      if (pending.length > max) {
        if (paused || hover) skipped += pending.length - max;
        pending = pending.slice(-max);
      }
      if (!frame) frame = requestAnimationFrame(flush);
    }
    table.addEventListener('mouseenter', () => {
      hover = true;
      if (!paused) setState('paused', 'paused while the pointer is over the table');
    });
    table.addEventListener('mouseleave', () => {
      hover = false;
      if (!paused) setState('live', 'live');
      if (!frame) frame = requestAnimationFrame(flush);
    });
    pauseBtn.addEventListener('click', () => {
      paused = !paused;
      pauseBtn.textContent = paused ? 'Resume' : 'Pause';
      pauseBtn.setAttribute('aria-pressed', String(paused));
      setState(paused ? 'paused' : 'live', paused ? 'paused' : 'live');
      if (!paused && !frame) frame = requestAnimationFrame(flush);
    });
    const signIn = () =>
      window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    function connect() {
      const src = new EventSource(table.dataset.stream);
      src.addEventListener('open', () => setState(paused ? 'paused' : 'live', paused ? 'paused' : 'live'));
      src.addEventListener('events', (m) => onEvents(JSON.parse(m.data)));
      src.addEventListener('signin', () => {
        src.close();
        signIn();
      });
      src.addEventListener('error', () => {
        setState('reconnecting', 'reconnecting…');
        // The browser retries a dropped stream by itself; an answer that is not a stream (MUTT
        // restarting, the session gone) closes it for good: find out which, then start again.
        if (src.readyState !== EventSource.CLOSED) return;
        setTimeout(async () => {
          try {
            const r = await fetch('/ui/status', { cache: 'no-store' });
            if (r.status === 401) return signIn();
          } catch {
            // still down: try again
          }
          connect();
        }, 3000);
      });
    }
    connect();
  }

  // ── CSRF header on every htmx request, and htmx's own failures in the banner ───────────────
  document.addEventListener('htmx:configRequest', (e) => {
    e.detail.headers['X-CSRF-Token'] = csrf();
  });
  document.addEventListener('htmx:sendError', () => {
    const b = $('#live-banner');
    if (b) {
      b.textContent = 'MUTT is not answering — reconnecting…';
      b.className = 'banner bad';
    }
  });
  document.addEventListener('htmx:afterSwap', (e) => times(e.target));

  // ── keyboard: "/" focuses search ────────────────────────────────────────────────────────────
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement)
      return;
    const search = $('[data-search]');
    if (search) {
      e.preventDefault();
      search.focus();
    }
  });

  // ── "select all" checkboxes, confirmations that name a count ────────────────────────────────
  document.addEventListener('change', (e) => {
    const t = e.target;
    if (!(t instanceof HTMLInputElement) || !t.dataset.selectAll) return;
    for (const c of $$(`input[type=checkbox][name="${t.dataset.selectAll}"]`)) c.checked = t.checked;
  });

  function start() {
    times(document);
    setInterval(() => times(document), 30_000);
    for (const el of $$('[data-chart]')) chart(el);
    const t = $('table[data-stream]');
    if (t) tail(t);
    void pollStatus();
    setInterval(pollStatus, 5000);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
