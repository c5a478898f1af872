#!/usr/bin/env node
// Renders the panels of a Grafana dashboard (etc/grafana/mutt-dashboard.json) from a real Prometheus,
// without Grafana: every panel's queries are run (range queries for graphs, instant queries for stat
// panels, with the dashboard's variables substituted), charted as SVG in the dashboard's grid layout,
// and the page is photographed with Debian's chromium. It prints a JSON summary with the number of
// series each panel got, so a caller can check that no panel is empty.
//
//   node scripts/render-dashboard.mjs --prometheus http://127.0.0.1:9090 --out dashboard.png \
//     [--dashboard etc/grafana/mutt-dashboard.json] [--minutes 15 | --start <epoch s>] [--end <epoch s>] \
//     [--job '.+'] [--instance '.+'] \
//     [--rate-interval 1m] [--html page.html] [--chromium /usr/bin/chromium]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    prometheus: { type: 'string' },
    dashboard: { type: 'string', default: 'etc/grafana/mutt-dashboard.json' },
    out: { type: 'string' },
    html: { type: 'string' },
    minutes: { type: 'string', default: '15' },
    start: { type: 'string' },
    end: { type: 'string' },
    job: { type: 'string', default: '.+' },
    instance: { type: 'string', default: '.+' },
    'rate-interval': { type: 'string', default: '1m' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    width: { type: 'string', default: '1600' },
  },
});
if (!args.prometheus || !args.out) {
  process.stderr.write('render-dashboard: --prometheus <url> and --out <file.png> are required\n');
  process.exit(64);
}

const dashboard = JSON.parse(readFileSync(args.dashboard, 'utf8'));
const end = args.end ? Number(args.end) : Date.now() / 1000;
const start = args.start ? Number(args.start) : end - Number(args.minutes) * 60;
const step = Math.max(1, Math.round((end - start) / 240));

/** The dashboard's variables as Grafana would expand them for "All". */
function expand(expr) {
  return expr
    .replaceAll('$__rate_interval', args['rate-interval'])
    .replaceAll('$__interval', `${step}s`)
    .replaceAll('$__range', `${Math.round(end - start)}s`)
    .replaceAll('$job', args.job)
    .replaceAll('$instance', args.instance);
}

async function prom(path, params) {
  const url = new URL(path, args.prometheus.endsWith('/') ? args.prometheus : `${args.prometheus}/`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  const res = await fetch(url);
  const body = await res.json();
  if (body.status !== 'success') throw new Error(`${path} ${params.query}: ${body.error ?? res.status}`);
  return body.data.result;
}

const legend = (fmt, metric) =>
  fmt ? fmt.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k) => metric[k] ?? '') : JSON.stringify(metric);

const PALETTE = [
  '#73bf69',
  '#f2cc0c',
  '#8ab8ff',
  '#ff780a',
  '#f2495c',
  '#5794f2',
  '#b877d9',
  '#fade2a',
  '#96d98d',
  '#ff9830',
];
const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function fmt(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'NaN';
  const a = Math.abs(v);
  const n = (x, d = 2) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(d).replace(/\.?0+$/, ''));
  switch (unit) {
    case 'bytes':
      return a >= 2 ** 30
        ? `${n(v / 2 ** 30)} GiB`
        : a >= 2 ** 20
          ? `${n(v / 2 ** 20)} MiB`
          : `${n(v / 1024)} KiB`;
    case 's':
      return a === 0 ? '0 s' : a < 1e-3 ? `${n(v * 1e6)} µs` : a < 1 ? `${n(v * 1e3)} ms` : `${n(v)} s`;
    case 'ms':
      return `${n(v)} ms`;
    case 'percentunit':
      return `${n(v * 100, 3)}%`;
    case 'ops':
    case 'reqps':
      return `${n(v)}/s`;
    default:
      return a >= 1e6 ? `${n(v / 1e6)}M` : a >= 1e4 ? `${n(v / 1e3)}k` : n(v);
  }
}

function mapped(v, mappings) {
  for (const m of mappings ?? []) {
    const o = m.type === 'value' ? m.options?.[String(v)] : undefined;
    if (o) return o;
  }
  return undefined;
}

function thresholdColor(v, steps) {
  let c = steps?.[0]?.color ?? '#73bf69';
  for (const s of steps ?? []) if (s.value !== null && v >= s.value) c = s.color;
  return { green: '#73bf69', red: '#f2495c', yellow: '#fade2a', orange: '#ff9830' }[c] ?? c;
}

function chart(series, w, h, unit) {
  const pad = { l: 58, r: 8, t: 6, b: 18 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const vals = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v));
  const min = Math.min(0, ...vals);
  const top = Math.max(...vals, min);
  const max = top > min ? top : min + 1; // a flat line at 0 still gets an axis
  const x = (t) => pad.l + ((t - start) / (end - start)) * pw;
  const y = (v) => pad.t + ph - ((v - min) / (max - min)) * ph;
  let svg = `<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">`;
  for (const f of [0, 0.5, 1]) {
    const v = min + (max - min) * f;
    svg += `<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#2c3235"/>`;
    svg += `<text x="${pad.l - 4}" y="${y(v) + 4}" text-anchor="end" fill="#9fa7b3" font-size="10">${esc(fmt(v, unit))}</text>`;
  }
  for (const f of [0, 0.5, 1]) {
    const t = start + (end - start) * f;
    const label = new Date(t * 1000).toISOString().slice(11, 19);
    svg += `<text x="${x(t)}" y="${h - 4}" text-anchor="${f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}" fill="#9fa7b3" font-size="10">${label}</text>`;
  }
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length === 0) return;
    const d = pts.map((p, k) => `${k ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
    svg += `<path d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5"/>`;
  });
  return `${svg}</svg>`;
}

function timeline(series, w, h, mappings) {
  const pad = { l: 8, r: 8, t: 8, b: 18 };
  const pw = w - pad.l - pad.r;
  const x = (t) => pad.l + ((t - start) / (end - start)) * pw;
  let svg = `<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">`;
  const pts = series[0]?.points ?? [];
  pts.forEach((p, i) => {
    const next = pts[i + 1]?.[0] ?? p[0] + step;
    const m = mapped(p[1], mappings);
    const color = thresholdColor(p[1], [{ color: m?.color ?? 'green', value: null }]);
    svg += `<rect x="${x(p[0])}" y="${pad.t}" width="${Math.max(1, x(next) - x(p[0]))}" height="${h - pad.t - pad.b}" fill="${color}"/>`;
  });
  for (const f of [0, 0.5, 1]) {
    const t = start + (end - start) * f;
    svg += `<text x="${x(t)}" y="${h - 4}" text-anchor="${f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}" fill="#9fa7b3" font-size="10">${new Date(t * 1000).toISOString().slice(11, 19)}</text>`;
  }
  return `${svg}</svg>`;
}

const width = Number(args.width);
const col = width / 24;
const rowH = 32;
const summary = { panels: [], start, end, step };
let body = '';
let bottom = 0;
for (const p of dashboard.panels) {
  const g = p.gridPos;
  const left = g.x * col;
  const top = g.y * rowH;
  const w = g.w * col - 8;
  const h = g.h * rowH - 8;
  bottom = Math.max(bottom, top + h + 8);
  if (p.type === 'row') {
    body += `<div class="row" style="left:${left}px;top:${top}px;width:${w}px">${esc(p.title)}</div>`;
    continue;
  }
  const unit = p.fieldConfig?.defaults?.unit;
  const series = [];
  for (const t of p.targets ?? []) {
    const expr = expand(t.expr);
    if (p.type === 'stat') {
      for (const r of await prom('api/v1/query', { query: expr, time: end }))
        series.push({ name: legend(t.legendFormat, r.metric), value: Number(r.value[1]) });
    } else {
      for (const r of await prom('api/v1/query_range', { query: expr, start, end, step }))
        series.push({
          name: legend(t.legendFormat, r.metric),
          points: r.values.map(([ts, v]) => [ts, Number(v)]),
        });
    }
  }
  summary.panels.push({ id: p.id, title: p.title, type: p.type, series: series.length });
  let inner;
  if (series.length === 0) inner = '<div class="nodata">No data</div>';
  else if (p.type === 'stat') {
    const d = p.fieldConfig.defaults;
    inner = `<div class="stats">${series
      .map((s) => {
        const m = mapped(s.value, d.mappings);
        const color = m?.color
          ? thresholdColor(0, [{ color: m.color, value: null }])
          : thresholdColor(s.value, d.thresholds?.steps);
        const text = m?.text ?? fmt(s.value, unit);
        const bg = p.options?.colorMode === 'background';
        return `<div class="stat" style="${bg ? `background:${color};color:#111` : `color:${color}`}"><div class="sv">${esc(text)}</div><div class="sn">${esc(s.name)}</div></div>`;
      })
      .join('')}</div>`;
  } else if (p.type === 'state-timeline') {
    inner = timeline(series, w - 16, h - 40, p.fieldConfig?.defaults?.mappings);
  } else {
    const legendH = 14 * Math.min(4, Math.ceil(series.length / 3));
    inner =
      chart(series, w - 16, h - 40 - legendH, unit) +
      `<div class="legend">${series
        .slice(0, 12)
        .map((s, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(s.name)}</span>`)
        .join('')}</div>`;
  }
  body += `<div class="panel" style="left:${left}px;top:${top}px;width:${w}px;height:${h}px"><div class="title">${esc(p.title)}</div>${inner}</div>`;
}

const html = `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#111217;font-family:Inter,Helvetica,Arial,sans-serif;color:#ccccdc}
.head{padding:10px 12px;font-size:18px}.head small{color:#9fa7b3;font-size:12px;margin-left:12px}
.grid{position:relative;margin:0 4px;height:${bottom}px}
.panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:3px;padding:6px 8px;box-sizing:border-box;overflow:hidden}
.row{position:absolute;font-size:15px;font-weight:600;padding:6px 4px}
.title{font-size:13px;font-weight:500;margin-bottom:4px}
.legend{font-size:10px;line-height:14px;color:#ccccdc}.legend span{margin-right:10px;white-space:nowrap}.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
.stats{display:flex;gap:6px;height:calc(100% - 22px)}.stat{flex:1;border-radius:2px;display:flex;flex-direction:column;justify-content:center;align-items:center;min-width:0}
.sv{font-size:22px;font-weight:600}.sn{font-size:11px;opacity:.85;text-align:center}
.nodata{color:#9fa7b3;text-align:center;padding-top:30px}
</style></head><body><div class="head">${esc(dashboard.title)}<small>${new Date(start * 1000).toISOString()} – ${new Date(end * 1000).toISOString()} · job=~"${esc(args.job)}" · rendered from Prometheus by scripts/render-dashboard.mjs</small></div><div class="grid">${body}</div></body></html>`;

const dir = mkdtempSync(join(tmpdir(), 'mutt-render-'));
const page = args.html ?? join(dir, 'dashboard.html');
writeFileSync(page, html);
const r = spawnSync(
  args.chromium,
  [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    `--window-size=${width + 8},${bottom + 50}`,
    `--screenshot=${resolve(args.out)}`,
    `file://${resolve(page)}`,
  ],
  { encoding: 'utf8', timeout: 120_000 },
);
if (!args.html) rmSync(dir, { recursive: true, force: true });
if (r.status !== 0) {
  process.stderr.write(`render-dashboard: chromium failed (${r.status}): ${r.stderr}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify(summary)}\n`);
