/**
 * The shipped Grafana dashboard and its provisioning, checked offline: a layout Grafana can place (whole-number
 * gridPos inside the 24-column grid, no overlaps), unique ids, the provisioned datasource on every query, RED
 * panels for tasks and each dependency, USE panels for the pool, budgets and breakers, and only metrics the
 * daemon exports or the recording rules define. That every query returns data is checked against a live
 * Prometheus in test/e2e/observability.e2e.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createMetrics } from '../../src/observability/metrics.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: unknown; y: unknown; w: unknown; h: unknown };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync('deploy/grafana/dashboards/codegen-pr.json', 'utf8')) as {
  uid: string;
  panels: Panel[];
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');

describe('the Grafana dashboard', () => {
  it('places every panel on whole grid cells inside 24 columns, without overlaps', () => {
    const bad: string[] = [];
    const taken = new Map<string, string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      const ok = [x, y, w, h].every((n) => Number.isInteger(n) && (n as number) >= 0);
      if (!ok || (w as number) < 1 || (h as number) < 1 || (x as number) + (w as number) > 24) {
        bad.push(`${p.title}: ${JSON.stringify(p.gridPos)}`);
        continue;
      }
      for (let cx = x as number; cx < (x as number) + (w as number); cx++)
        for (let cy = y as number; cy < (y as number) + (h as number); cy++) {
          const other = taken.get(`${cx},${cy}`);
          if (other) bad.push(`${p.title} overlaps ${other}`);
          taken.set(`${cx},${cy}`, p.title);
        }
    }
    expect([...new Set(bad)]).toEqual([]);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it('queries the provisioned Prometheus datasource in every panel', () => {
    const { datasources } = parse(readFileSync('deploy/grafana/provisioning/datasources/prometheus.yml', 'utf8')) as {
      datasources: Array<{ uid: string; type: string }>;
    };
    const uid = datasources.find((d) => d.type === 'prometheus')?.uid;
    expect(uid).toBeDefined();
    const wrong = queryPanels.filter(
      (p) => p.datasource?.uid !== uid || !p.targets?.length || p.targets.some((t) => !t.expr || !t.refId),
    );
    expect(wrong.map((p) => p.title)).toEqual([]);
  });

  it('has RED panels for tasks and each dependency, and USE panels for the pool, budgets and breakers', () => {
    const titles = queryPanels.map((p) => p.title);
    const has = (pattern: RegExp): boolean => titles.some((t) => pattern.test(t));
    const missing: string[] = [];
    for (const kind of ['Rate', 'Errors', 'Duration']) if (!has(new RegExp(`^${kind}:`))) missing.push(`tasks ${kind}`);
    for (const dep of ['Codegen API', 'GitHub API', 'Task store'])
      for (const kind of ['requests', 'errors', 'latency'])
        if (!has(new RegExp(`^${dep}: ${kind}`))) missing.push(`${dep} ${kind}`);
    for (const use of [/^Utilisation:/, /^Saturation:/, /^Errors: claim/, /^Budgets:/, /^Breakers:/])
      if (!has(use)) missing.push(String(use));
    expect(missing).toEqual([]);
  });

  it('uses only metrics the daemon exports or the recording rules define', async () => {
    const exported = new Set<string>();
    for (const m of await createMetrics().registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m.name + s);
    }
    const rules = readFileSync('deploy/prometheus/rules.yml', 'utf8');
    const recorded = new Set([...rules.matchAll(/record: (\S+)/g)].map(([, name]) => name));
    const used = queryPanels.flatMap((p) =>
      (p.targets ?? []).flatMap((t) => t.expr.match(/codegen_pr[a-z0-9_:]+/g) ?? []),
    );
    expect(used.length).toBeGreaterThan(30);
    expect([...new Set(used)].filter((name) => !exported.has(name) && !recorded.has(name))).toEqual([]);
  });

  it('does not need a retry series to show waiting tasks', () => {
    const waiting = queryPanels.find((p) => p.title === 'Tasks waiting');
    expect(waiting?.targets?.map((t) => t.expr)).toEqual(['codegen_pr:tasks_waiting:max']);
    expect(rulesExpr('codegen_pr:tasks_waiting:max')).toContain('status=~"pending|retry"');
  });
});

function rulesExpr(record: string): string {
  const { groups } = parse(readFileSync('deploy/prometheus/rules.yml', 'utf8')) as {
    groups: Array<{ rules: Array<{ record?: string; expr: string }> }>;
  };
  return groups.flatMap((g) => g.rules).find((r) => r.record === record)?.expr ?? '';
}
