// Debian's Prometheus for the observability tests: installed when missing (with promtool), started on
// a free port with a private data directory, scraping the given targets every second and evaluating
// the given rule files every second; plus what the tests read from the rules and the dashboard (every
// PromQL expression, and the series selectors inside them).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { ensurePackages } from './packages.ts';
import { freePort } from './ports.ts';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

export function ensurePrometheus(): void {
  ensurePackages(
    { prometheus: () => existsSync(PROMETHEUS) && existsSync(PROMTOOL) },
    'the observability tests run Prometheus and promtool',
  );
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}

export class RunningPrometheus {
  readonly url: string;
  private readonly child: ChildProcess;
  readonly log: string[] = [];

  constructor(url: string, child: ChildProcess) {
    this.url = url;
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => this.log.push(d.toString()));
  }

  private async api<T>(path: string, params: Record<string, string | number> = {}): Promise<T> {
    const u = new URL(path, `${this.url}/`);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
    const res = await fetch(u);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path} ${params.query ?? ''}: ${body.error}`);
    return body.data;
  }

  async query(q: string): Promise<Sample[]> {
    return (await this.api<{ result: Sample[] }>('api/v1/query', { query: q })).result;
  }

  async alerts(): Promise<PromAlert[]> {
    return (await this.api<{ alerts: PromAlert[] }>('api/v1/alerts')).alerts;
  }

  async targetsUp(): Promise<boolean> {
    const d = await this.api<{ activeTargets: { health: string }[] }>('api/v1/targets');
    return d.activeTargets.length > 0 && d.activeTargets.every((t) => t.health === 'up');
  }

  async labelValues(label: string, match: string): Promise<string[]> {
    return this.api<string[]>(`api/v1/label/${label}/values`, { 'match[]': match });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, abortableSleep(10_000).then(() => this.child.kill('SIGKILL'))]);
  }
}

export async function startPrometheus(o: {
  dir: string;
  job: string;
  targets: string[];
  ruleFiles: string[];
  intervalSeconds?: number;
}): Promise<RunningPrometheus> {
  mkdirSync(o.dir, { recursive: true });
  const port = await freePort();
  const every = `${o.intervalSeconds ?? 1}s`;
  const config = {
    global: { scrape_interval: every, evaluation_interval: every, scrape_timeout: every },
    rule_files: o.ruleFiles,
    scrape_configs: [{ job_name: o.job, static_configs: [{ targets: o.targets }] }],
  };
  const file = join(o.dir, 'prometheus.yml');
  writeFileSync(file, JSON.stringify(config, null, 2)); // JSON is YAML
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${file}`,
      `--storage.tsdb.path=${join(o.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const p = new RunningPrometheus(`http://127.0.0.1:${port}`, child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${p.log.join('')}`);
    try {
      if ((await fetch(`${p.url}/-/ready`)).ok) return p;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready in 30 s: ${p.log.join('')}`);
    await abortableSleep(200);
  }
}

// ── What the rules and the dashboard query ──────────────────────────────────────────────────────

export interface RuleEntry {
  group: string;
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function loadRules(file: string): RuleEntry[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as {
    groups: { name: string; rules: Omit<RuleEntry, 'group'>[] }[];
  };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ group: g.name, ...r })));
}

export interface DashboardTarget {
  panel: string;
  panelType: string;
  expr: string;
  legendFormat?: string;
}

export interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  __inputs?: { name: string; type: string; pluginId: string }[];
  templating: {
    list: { name: string; type: string; query?: unknown; definition?: string; allValue?: string }[];
  };
  panels: {
    id: number;
    type: string;
    title: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource?: { type: string; uid: string };
    targets?: {
      expr: string;
      legendFormat?: string;
      refId: string;
      datasource?: { type: string; uid: string };
    }[];
  }[];
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

export function dashboardTargets(d: Dashboard): DashboardTarget[] {
  return d.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title,
      panelType: p.type,
      expr: t.expr,
      legendFormat: t.legendFormat,
    })),
  );
}

/** The dashboard's variables as Grafana expands them with "All" selected. */
export function expandVariables(expr: string, rateInterval = '1m'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h')
    .replaceAll('$job', '.+')
    .replaceAll('$instance', '.+');
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The series selectors of a PromQL expression (`name{matchers}`), so each can be checked to match
 * something. Functions, keywords, label lists of by/without/on/ignoring, strings and durations are
 * not selectors.
 */
export function selectorsOf(expr: string): string[] {
  const s = expr
    // Same-length blanks everywhere, so offsets still point into `expr`.
    .replace(/"(?:[^"\\]|\\.)*"/g, (m) => m.replace(/[^"]/g, ' '))
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, (m) => ' '.repeat(m.length))
    .replace(/\[[^\]]*\]/g, (m) => ' '.repeat(m.length));
  const out = new Set<string>();
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const name = m[1]!;
    const after = s.slice(m.index + m[0].length).trimStart();
    const before = s.slice(0, m.index).trimEnd();
    if (KEYWORDS.has(name.toLowerCase()) || after.startsWith('(')) continue;
    if (/[0-9.]$/.test(before) && /^[a-z]+$/.test(name)) continue; // a duration such as 5m outside []
    if (/^\d/.test(name)) continue;
    // the matchers come from the original expression (strings were blanked above)
    const matchers = m[2] ? expr.slice(m.index + m[0].indexOf('{'), m.index + m[0].length) : '';
    out.add(`${name}${matchers}`);
  }
  return [...out];
}

/** The metric name of a selector. */
export const metricOf = (selector: string): string => selector.replace(/\{.*$/, '');
