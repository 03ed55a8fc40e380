/**
 * The per-repository in-flight cap from configuration to the claim: REPO_MAX_IN_FLIGHT and
 * REPO_MAX_IN_FLIGHT_OVERRIDES are read and checked (a bad value names the variable), turned into the claim's
 * repositoryCap (none when they cap nothing), and the scheduler sends it with every claim.
 */
import { describe, expect, it } from '@jest/globals';
import { repositoryCapOf } from '../client-support.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Task } from '../domain/task.js';
import type { ClaimOptions } from '../pipeline/ports.js';
import { silentLogger } from '../observability/logger.js';
import { createIntakeGate } from './intake.js';
import { createPool } from './pool.js';
import { createScheduler } from './scheduler.js';

const noFiles = { dotenvPath: false as const, configDir: '/nonexistent' };

function refusal(env: Record<string, string>): string {
  try {
    loadConfig({ env, ...noFiles });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('REPO_MAX_IN_FLIGHT', () => {
  it('is off by default: claims carry no cap', () => {
    const config = loadConfig({ env: {}, ...noFiles });
    expect(config.processing).toMatchObject({ repoMaxInFlight: 0, repoMaxInFlightOverrides: {} });
    expect(repositoryCapOf(config)).toEqual({});
    const zeros = loadConfig({ env: { REPO_MAX_IN_FLIGHT_OVERRIDES: '{"acme/web": 0}' }, ...noFiles });
    expect(repositoryCapOf(zeros)).toEqual({});
  });

  it('becomes the claim cap, overrides by repository, tasks without one counted as GITHUB_REPOSITORY', () => {
    const config = loadConfig({
      env: {
        REPO_MAX_IN_FLIGHT: '2',
        REPO_MAX_IN_FLIGHT_OVERRIDES: '{"acme/web": 5, "acme/docs": 0}',
        GITHUB_REPOSITORY: 'acme/app',
      },
      ...noFiles,
    });
    expect(repositoryCapOf(config)).toEqual({
      repositoryCap: { default: 2, overrides: { 'acme/web': 5, 'acme/docs': 0 }, unnamedAs: 'acme/app' },
    });
    const onlyOne = loadConfig({ env: { REPO_MAX_IN_FLIGHT_OVERRIDES: '{"acme/web": 1}' }, ...noFiles });
    expect(repositoryCapOf(onlyOne)).toEqual({ repositoryCap: { default: 0, overrides: { 'acme/web': 1 } } });
  });

  it('refuses bad values naming the variable', () => {
    expect(refusal({ REPO_MAX_IN_FLIGHT: '-1' })).toContain('(env REPO_MAX_IN_FLIGHT)');
    expect(refusal({ REPO_MAX_IN_FLIGHT: '1001' })).toContain('(env REPO_MAX_IN_FLIGHT)');
    for (const bad of ['acme/web=2', '[2]', '{"acme/web": 1.5}', '{"acme/web": -1}', '{"no-slash": 1}']) {
      expect(refusal({ REPO_MAX_IN_FLIGHT_OVERRIDES: bad })).toContain('(env REPO_MAX_IN_FLIGHT_OVERRIDES)');
    }
  });

  it('is sent with every claim the scheduler makes', async () => {
    const requests: ClaimOptions[] = [];
    let claimed!: () => void;
    const firstClaim = new Promise<void>((resolve) => (claimed = resolve));
    const scheduler = createScheduler({
      store: {
        claimTasks: async (options) => {
          requests.push(options);
          claimed();
          return [];
        },
      },
      pool: createPool(2),
      intake: createIntakeGate(),
      worker: 'w',
      batchSize: 10,
      pollIntervalMs: 60_000,
      leaseMs: 1000,
      repositoryCap: { default: 2, overrides: { 'acme/web': 5 } },
      startTask: () => {
        throw new Error('nothing to start');
      },
      logger: silentLogger(),
      source: 'test',
    });
    scheduler.start();
    await firstClaim;
    await scheduler.stop();
    expect(requests[0]).toMatchObject({ limit: 2, repositoryCap: { default: 2, overrides: { 'acme/web': 5 } } });
  });

  it('claims again as soon as one of its tasks finishes when the last capped claim came back short', async () => {
    // The store holds back tasks of a repository at its cap: one task now, the next only once it has finished.
    const requests: ClaimOptions[] = [];
    let finishFirst!: () => void;
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    let secondClaim!: () => void;
    const claimedAgain = new Promise<void>((resolve) => (secondClaim = resolve));
    let handedOut = 0;
    const scheduler = createScheduler({
      store: {
        claimTasks: async (options) => {
          requests.push(options);
          if (requests.length >= 2) secondClaim();
          if (handedOut > 0) return [];
          handedOut++;
          const task = { id: 'a0', title: 'a0', description: 'd', status: 'claimed', attempts: 1 } as unknown as Task;
          return [{ task, lease: { owner: 'w', token: 't', expiresAt: new Date().toISOString() } }];
        },
      },
      pool: createPool(3),
      intake: createIntakeGate(),
      worker: 'w',
      batchSize: 10,
      // An interval this test never waits out: only the freed slot can explain the second claim.
      pollIntervalMs: 600_000,
      leaseMs: 1000,
      repositoryCap: { default: 1 },
      startTask: (claim, slot) => {
        const run = () =>
          new Promise<void>((resolve) => {
            finishFirst = resolve;
            firstStarted();
          });
        slot.start({ id: claim.task.id, run });
      },
      logger: silentLogger(),
      source: 'test',
    });
    scheduler.start();
    await started;
    expect(requests).toHaveLength(1);
    finishFirst();
    await claimedAgain;
    await scheduler.stop();
    expect(requests.length).toBeGreaterThanOrEqual(2);
  });
});
