/**
 * The shipped Prometheus files: the config passes `promtool check config` from a checkout (not only inside the
 * container), the rules pass `promtool check rules`, and the alert unit tests under deploy/prometheus/tests/
 * pass `promtool test rules`, with a firing and a not-firing case for every alert and a runbook entry for each.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { missingTools, promtool } from '../e2e/prometheus-process.js';

const DIR = 'deploy/prometheus';
const skipWhy = missingTools('promtool');
if (skipWhy) console.warn(`deploy/prometheus: the promtool checks are skipped: ${skipWhy}`);
const withPromtool = skipWhy ? it.skip : it;

interface RuleFile {
  groups: Array<{ rules: Array<{ alert?: string; record?: string; annotations?: Record<string, string> }> }>;
}
interface RuleTests {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

const alerts = (parse(readFileSync(`${DIR}/alerts.yml`, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
const testFiles = readdirSync(`${DIR}/tests`).filter((f) => f.endsWith('.test.yml'));

describe('deploy/prometheus', () => {
  withPromtool('prometheus.yml passes promtool check config, with its rule files', () => {
    const result = promtool(['check', 'config', `${DIR}/prometheus.yml`]);
    expect(result.output).toContain('SUCCESS: 2 rule files found');
    expect(result.status).toBe(0);
  });

  withPromtool('the rule files pass promtool check rules', () => {
    const result = promtool(['check', 'rules', `${DIR}/rules.yml`, `${DIR}/alerts.yml`]);
    expect(result.status).toBe(0);
  });

  withPromtool('the alert unit tests pass promtool test rules', () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const result = promtool(['test', 'rules', ...testFiles.map((f) => `${DIR}/tests/${f}`)]);
    if (result.status !== 0) console.error(result.output);
    expect(result.status).toBe(0);
  });

  it('has a firing and a not-firing unit test for every alert', () => {
    const cases = testFiles.flatMap((f) =>
      (parse(readFileSync(`${DIR}/tests/${f}`, 'utf8')) as RuleTests).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    const missing: string[] = [];
    for (const { alert } of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      if (!mine.some((c) => c.exp_alerts.length > 0)) missing.push(`${alert}: no firing case`);
      if (!mine.some((c) => c.exp_alerts.length === 0)) missing.push(`${alert}: no not-firing case`);
    }
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect(missing).toEqual([]);
  });

  it('links every alert to its own entry in the README runbook', () => {
    const readme = readFileSync('README.md', 'utf8');
    const headings = new Set(
      [...readme.matchAll(/^#{2,4} (.+)$/gm)].map(([, h]) =>
        (h ?? '')
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const broken = alerts
      .filter(({ alert, annotations }) => {
        const anchor = annotations?.runbook?.split('#')[1];
        return !anchor || anchor !== alert?.toLowerCase() || !headings.has(anchor);
      })
      .map((a) => a.alert);
    expect(broken).toEqual([]);
  });
});
