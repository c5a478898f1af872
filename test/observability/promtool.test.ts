// The alert rules with Debian's promtool (installed when missing): they load, every promtool unit test
// passes, every alert has a test that fires it and one where it stays quiet, and each alert carries a
// severity, a summary naming the node and a runbook section in docs/RUNBOOKS.md. Whether the metrics
// they read exist in MUTT is tested against a real Prometheus in ./prometheus.test.ts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ensurePrometheus, loadRules, PROMTOOL, selectorsOf } from '../harness/prometheus.ts';

const RULES = 'etc/prometheus/mutt-alerts.yml';
const TESTS = 'etc/prometheus/mutt-alerts.test.yml';
const RUNBOOKS = 'docs/RUNBOOKS.md';

beforeAll(() => ensurePrometheus());

const rules = loadRules(RULES);
const alerts = rules.filter((r) => r.alert);

describe('promtool', () => {
  it('check rules: the file loads without a problem', () => {
    const r = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('test rules: every unit test passes', () => {
    const r = spawnSync(PROMTOOL, ['test', 'rules', 'mutt-alerts.test.yml'], {
      encoding: 'utf8',
      cwd: 'etc/prometheus',
    });
    expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  it('every alert has a test that fires it and a check where it stays quiet', () => {
    type Check = { alertname: string; exp_alerts?: unknown[] };
    const doc = parseYaml(readFileSync(TESTS, 'utf8')) as { tests: { alert_rule_test: Check[] }[] };
    const checks = doc.tests.flatMap((t) => t.alert_rule_test);
    const fired = new Set(checks.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const quiet = new Set(checks.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    const names = alerts.map((a) => a.alert!);
    expect(names.filter((n) => !fired.has(n))).toEqual([]);
    expect(names.filter((n) => !quiet.has(n))).toEqual([]);
    // Each firing check also carries series of a healthy node (another instance) that must not fire.
    for (const t of doc.tests) {
      const series = (t as unknown as { input_series: { series: string }[] }).input_series.map(
        (s) => s.series,
      );
      const instances = new Set(series.map((s) => /instance="([^"]+)"/.exec(s)?.[1]));
      expect(instances.size, `test with ${series[0]}`).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('the rules', () => {
  const runbooks = readFileSync(RUNBOOKS, 'utf8');
  // GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes.
  const anchors = new Set(
    [...runbooks.matchAll(/^#{2,3} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );

  it.each(alerts.map((a) => [a.alert!, a] as const))(
    '%s: severity, a summary naming the node, a runbook section',
    (_name, a) => {
      expect(['critical', 'warning', 'info']).toContain(a.labels?.severity);
      expect(a.annotations?.summary).toContain('{{ $labels.instance }}');
      expect(a.annotations?.description?.length).toBeGreaterThan(20);
      const url = a.annotations?.runbook_url ?? '';
      expect(url).toBe(`docs/RUNBOOKS.md#${a.alert!.toLowerCase()}`);
      expect(anchors.has(url.split('#')[1]!), `a "## ${a.alert}" section in ${RUNBOOKS}`).toBe(true);
    },
  );

  it('RUNBOOKS.md has one section per alert and none for an alert that does not exist', () => {
    const sections = [...runbooks.matchAll(/^## (MUTT\w+)\s*$/gm)].map((m) => m[1]);
    expect([...sections].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it('selectorsOf finds every series selector of an expression, and nothing else', () => {
    expect(
      selectorsOf(
        'histogram_quantile(0.95, sum by (job, instance, le) (rate(mutt_db_write_latency_ms_bucket[5m]))) > 250',
      ),
    ).toEqual(['mutt_db_write_latency_ms_bucket']);
    expect(
      selectorsOf(
        'label_replace(sum by (job, instance, reason) (increase(mutt_syslog_shed_total[5m])), "listener", "syslog", "", "") > 0 or mutt_remediation_dlq_depth{queue="dead"} > 100',
      ),
    ).toEqual(['mutt_syslog_shed_total', 'mutt_remediation_dlq_depth{queue="dead"}']);
    expect(
      selectorsOf('up{job=~"mutt.*"} == 0 unless on (instance) mutt:slo_error_ratio:rate1h{slo="x"}'),
    ).toEqual(['up{job=~"mutt.*"}', 'mutt:slo_error_ratio:rate1h{slo="x"}']);
    expect(selectorsOf('sum(x) / (sum(y{a="b c"}) or vector(0)) * 60 > 5m')).toEqual(['x', 'y{a="b c"}']);
  });
});
