import { describe, expect, it } from '@jest/globals';
import { ERROR_CATEGORIES } from '../domain/errors.js';
import { createMetrics } from './metrics.js';
import { CLAIM_SOURCES, DEPENDENCIES } from './metric-series.js';

/** Sample lines of Prometheus text output, keyed by name and labels as printed. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('createMetrics', () => {
  it('exports every known counter series at 0 before anything happened', async () => {
    const text = await createMetrics({ defaultMetrics: false }).registry.metrics();
    const s = samples(text);
    for (const source of CLAIM_SOURCES) expect(s.get(`codegen_pr_tasks_claimed_total{source="${source}"}`)).toBe(0);
    for (const category of ERROR_CATEGORIES)
      for (const outcome of ['failed', 'retried'])
        expect(s.get(`codegen_pr_tasks_finished_total{outcome="${outcome}",category="${category}"}`)).toBe(0);
    expect(s.get('codegen_pr_tasks_finished_total{outcome="completed",category="none"}')).toBe(0);
    expect(s.get('codegen_pr_tasks_recovered_total')).toBe(0);
    expect(s.get('codegen_pr_prs_created_total{origin="agent"}')).toBe(0);
    expect(s.get('codegen_pr_task_duration_seconds_count{outcome="completed"}')).toBe(0);
    for (const dependency of DEPENDENCIES) {
      expect(s.get(`codegen_pr_rate_limited_total{dependency="${dependency}"}`)).toBe(0);
      expect(s.get(`codegen_pr_credentials_refused{system="${dependency}"}`)).toBe(0);
      expect(s.get(`codegen_pr_dependency_up{dependency="${dependency}"}`)).toBe(1);
    }
    expect(s.get('codegen_pr_intake_paused{reason="quota"}')).toBe(0);
    expect(s.get('codegen_pr_oldest_ready_task_age_seconds')).toBe(0);
  });

  it('reports build info and no gauge named like a counter', async () => {
    const metrics = createMetrics({ version: '9.9.9' });
    const text = await metrics.registry.metrics();
    expect(samples(text).get(`codegen_pr_build_info{version="9.9.9",node="${process.version}"}`)).toBe(1);
    const gaugesNamedTotal = [...text.matchAll(/^# TYPE (\S+_total) (\S+)$/gm)]
      .filter(([, , type]) => type !== 'counter')
      .map(([, name]) => name);
    expect(gaugesNamedTotal).toEqual([]);
    // The per-type breakdown of the removed totals is still there.
    expect(text).toContain('# TYPE codegen_pr_nodejs_active_handles gauge');
  });
});
