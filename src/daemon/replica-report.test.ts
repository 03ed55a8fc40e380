import { describe, expect, it } from '@jest/globals';
import type { ReplicaRecord } from '../adapters/task-store/operations.js';
import { silentLogger } from '../observability/logger.js';
import { createIntakeGate } from './intake.js';
import { OPERATOR_REASON, startReplicaReports } from './replica-report.js';
import { pickReport } from './operator-duties.js';

describe('replica reports', () => {
  it('reports its state and pauses or resumes intake as people asked on the status page', async () => {
    const intake = createIntakeGate();
    const reported: unknown[] = [];
    let request: ReplicaRecord['intakeRequest'];
    const changes: Array<[boolean, string]> = [];
    const reports = startReplicaReports({
      ops: {
        reportReplica: async (name, startedAt, report) => {
          reported.push({ name, report });
          return { name, reportedAt: startedAt, report, ...(request ? { intakeRequest: request } : {}) };
        },
      },
      name: 'r1',
      startedAt: '2026-12-06T10:00:00.000Z',
      intervalMs: 60_000,
      state: () => ({ activeTasks: 1 }),
      intake,
      onIntakeChange: (paused, by) => changes.push([paused, by]),
      logger: silentLogger(),
      timer: false,
    });
    await reports.reportNow();
    expect(intake.isOpen()).toBe(true);
    request = { state: 'paused', by: 'alice', at: '2026-12-06T10:01:00.000Z' };
    await reports.reportNow();
    await reports.reportNow();
    expect(intake.reasons().map((r) => r.reason)).toEqual([OPERATOR_REASON]);
    request = { state: 'running', by: 'bob', at: '2026-12-06T10:02:00.000Z' };
    await reports.reportNow();
    expect(intake.isOpen()).toBe(true);
    expect(changes).toEqual([
      [true, 'alice'],
      [false, 'bob'],
    ]);
    expect(reported[0]).toEqual({ name: 'r1', report: { activeTasks: 1 } });
    reports.stop();
  });

  it('reports only the status fields meant for the page, never the configuration', () => {
    const report = pickReport(
      { worker: 'w', intake: { open: true }, config: { codegen: { token: '[redacted]' } }, auth: { userId: 3 } },
      '1.2.3',
    );
    expect(report).toEqual({ worker: 'w', intake: { open: true }, version: '1.2.3' });
  });
});
