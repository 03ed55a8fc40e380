/**
 * The Codegen auth tracker against the loopback Codegen fake: validation, one auth_error per outage, probing
 * until the token works again, auth_restored, and a status that never shows the token.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createCodegenApi, createCodegenAuth, type CodegenAuth } from '../../src/adapters/codegen/index.js';
import { DaemonError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import type { AgentApi, AgentIdentity } from '../../src/pipeline/ports.js';
import { startCodegenFake, type CodegenFake } from '../fakes/codegen-fake.js';

const TOKEN = 'cg-auth-secret-4b1d8e0f';
const NOW = new Date('2026-09-01T12:00:00.000Z');

let fake: CodegenFake;
let auth: CodegenAuth | undefined;
let logLines: string[];

/** The real client, with whoAmI counted so a test can await the n-th probe instead of sleeping. */
function countedApi() {
  const logger = createLogger({ level: 'debug', destination: { write: (l: string) => logLines.push(l) } });
  const api = createCodegenApi({ baseUrl: fake.url, apiKey: TOKEN, orgId: fake.orgId, timeoutMs: 2_000, logger });
  const waits: Array<{ n: number; resolve: () => void }> = [];
  let calls = 0;
  const counted: Pick<AgentApi, 'whoAmI'> = {
    async whoAmI(signal?: AbortSignal): Promise<AgentIdentity> {
      calls += 1;
      try {
        return await api.whoAmI(signal);
      } finally {
        for (const w of waits.filter((x) => calls >= x.n)) w.resolve();
      }
    },
  };
  const untilCalls = (n: number) => new Promise<void>((resolve) => waits.push({ n, resolve }));
  return { counted, untilCalls, calls: () => calls, logger };
}

function makeAuth(api: Pick<AgentApi, 'whoAmI'>, logger = createLogger({ level: 'silent' })): CodegenAuth {
  auth = createCodegenAuth({ api, orgId: fake.orgId, probeIntervalMs: 10, logger, now: () => NOW });
  return auth;
}

const once = <T>(a: CodegenAuth, event: 'auth_error' | 'auth_restored') =>
  new Promise<T>((resolve) => a.on(event, (payload) => resolve(payload as T)));

beforeEach(async () => {
  logLines = [];
  fake = await startCodegenFake({ token: TOKEN });
});

afterEach(async () => {
  auth?.stop();
  auth = undefined;
  await fake.close();
  expect(fake.violations).toEqual([]);
  expect(logLines.join('\n')).not.toContain(TOKEN);
});

describe('codegen auth', () => {
  it('validate records the user and the time, and the status never shows the token', async () => {
    const { counted, logger } = countedApi();
    const a = makeAuth(counted, logger);
    expect(a.getStatus()).toEqual({ authenticated: true, orgId: '42' });
    await expect(a.validate()).resolves.toMatchObject({ userId: 7, username: 'codegen-pr-bot' });
    expect(a.getStatus()).toEqual({
      authenticated: true,
      orgId: '42',
      user: { id: 7, username: 'codegen-pr-bot', email: 'bot@example.com' },
      lastValidatedAt: NOW.toISOString(),
    });
    expect(JSON.stringify(a.getStatus())).not.toContain(TOKEN);
  });

  it('emits auth_error once per outage, probes until the token works, then emits auth_restored', async () => {
    const { counted, untilCalls, calls, logger } = countedApi();
    const a = makeAuth(counted, logger);
    const errors: unknown[] = [];
    a.on('auth_error', (payload) => errors.push(payload));
    const restored = once<{ user: { id: number } }>(a, 'auth_restored');

    fake.token = 'revoked';
    const failure = await a.validate().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(DaemonError);
    expect(failure).toMatchObject({ category: 'authentication', code: 'codegen-unauthorized' });
    expect(a.isAuthenticated()).toBe(false);
    const waiting = a.whenAuthenticated();

    // Let three probes fail and report the same outage again: still one auth_error.
    await untilCalls(4);
    a.reportFailure(failure as DaemonError);
    expect(errors).toEqual([
      { error: { code: 'codegen-unauthorized', message: expect.any(String) }, at: NOW.toISOString() },
    ]);
    const status = a.getStatus();
    expect(status).toMatchObject({ authenticated: false, lastError: { code: 'codegen-unauthorized' } });
    expect(JSON.stringify(status)).not.toContain(TOKEN);

    fake.token = TOKEN;
    await expect(restored).resolves.toMatchObject({ user: { id: 7 } });
    await expect(waiting).resolves.toBeUndefined();
    expect(a.isAuthenticated()).toBe(true);
    expect(a.getStatus().lastError).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(calls()).toBeGreaterThanOrEqual(5);
    expect(fake.requests.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(4);
  });

  it('keeps probing through network errors, and a throwing listener breaks nothing', async () => {
    const { counted, untilCalls, logger } = countedApi();
    const a = makeAuth(counted, logger);
    a.on('auth_error', () => {
      throw new Error('listener bug');
    });
    a.on('auth_restored', () => {
      throw new Error('listener bug');
    });
    const restored = once(a, 'auth_restored');
    fake.dropNext({ pathIncludes: '/users/me' }, 2);
    a.reportFailure(new DaemonError('token rejected', { code: 'codegen-unauthorized', category: 'authentication' }));
    await untilCalls(2);
    await restored;
    expect(a.isAuthenticated()).toBe(true);
    expect(fake.requests.filter((r) => r.status === 0)).toHaveLength(2);
    expect(logLines.some((l) => l.includes('codegen auth listener threw'))).toBe(true);
  });

  it('ignores failures that are not about authentication', async () => {
    const a = makeAuth(countedApi().counted);
    const errors: unknown[] = [];
    a.on('auth_error', (p) => errors.push(p));
    a.reportFailure(new DaemonError('busy', { code: 'codegen-rate-limited', category: 'rate_limit', retryable: true }));
    fake.failNext({ pathIncludes: '/users/me' }, 503);
    await expect(a.validate()).rejects.toMatchObject({ category: 'server' });
    expect(a.isAuthenticated()).toBe(true);
    expect(errors).toEqual([]);
    await expect(a.whenAuthenticated()).resolves.toBeUndefined();
  });

  it('whenAuthenticated rejects on abort and on stop, and off removes a listener', async () => {
    const a = makeAuth({
      whoAmI: () => Promise.reject(new DaemonError('no', { code: 'codegen-unauthorized', category: 'authentication' })),
    });
    const calls: unknown[] = [];
    const listener = (p: unknown) => calls.push(p);
    a.on('auth_error', listener);
    a.off('auth_error', listener);
    a.reportFailure(new DaemonError('no', { code: 'codegen-forbidden', category: 'authentication' }));
    expect(calls).toEqual([]);

    const controller = new AbortController();
    const aborted = a.whenAuthenticated(controller.signal);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ category: 'cancelled' });
    const stopped = a.whenAuthenticated();
    a.stop();
    await expect(stopped).rejects.toMatchObject({ category: 'cancelled' });
    await expect(a.whenAuthenticated()).rejects.toMatchObject({ category: 'cancelled' });
  });
});
