/**
 * Dependency health: tells an outage (or a refused credential) from one task's bad luck, and pauses intake for
 * the length of a real one. A failure scoped to a dependency or a credential is only an outage when a probe of
 * that system fails too; then intake closes (reason `dependency:<system>` or `credential:<system>`) and the probe
 * repeats, backing off, until it succeeds. Tasks that hit the outage are handed back without spending attempts;
 * a request that fails while its system answers the probe is the task's own failure (see retry-policy.ts).
 *
 * One probe at a time per system: a hundred tasks failing at once share one probe and its verdict.
 */
import { toDaemonError, type DaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { DaemonEvents } from './events.js';
import type { IntakeGate } from './intake.js';
import { timeoutSignal } from '../resilience/timeout-signal.js';

/** A cheap request that succeeds only when the system is up and accepts our credential. */
export type Probe = (signal: AbortSignal) => Promise<void>;

export interface DependencyHealthOptions {
  /** One probe per system (codegen, github, task-store). A system without one is assumed down when it fails. */
  probes: Record<string, Probe>;
  intake: IntakeGate;
  events: DaemonEvents;
  logger: Logger;
  metrics?: Metrics;
  /** First wait between probes during an outage, in ms; it doubles up to maxProbeIntervalMs. */
  probeIntervalMs: number;
  maxProbeIntervalMs: number;
  /** Longest a single probe may take, in ms. */
  probeTimeoutMs: number;
}

export interface OutageStatus {
  system: string;
  kind: 'dependency' | 'credential';
  since: string;
  lastError: { code: string; message: string };
  nextProbeAt?: string;
}

export interface DependencyHealth {
  /**
   * For a dependency- or credential-scoped failure: probe the system (or join the probe under way) and answer
   * whether it is healthy. An unhealthy answer has already paused intake. Other scopes answer true at once.
   */
  assess(error: DaemonError, signal?: AbortSignal): Promise<boolean>;
  /** True while an outage of `system` is declared. */
  isDown(system: string): boolean;
  outages(): OutageStatus[];
  stop(): void;
}

interface Outage {
  status: OutageStatus;
  timer?: NodeJS.Timeout;
  delayMs: number;
}

/** The systems whose health is tracked; a failure names its system in `dependency`. */
export const TRACKED_SYSTEMS = ['codegen', 'github', 'task-store'] as const;

export function createDependencyHealth(options: DependencyHealthOptions): DependencyHealth {
  const { intake, events, logger, metrics } = options;
  const log = logger.child({ component: 'health' });
  const outages = new Map<string, Outage>();
  const probing = new Map<string, Promise<DaemonError | undefined>>();
  /** Per system: no probe before this time (a Retry-After its answer to a probe gave). */
  const quietUntil = new Map<string, number>();
  const stopper = new AbortController();

  for (const system of Object.keys(options.probes)) {
    metrics?.dependencyUp.set({ dependency: system }, 1);
    metrics?.credentialsRefused.set({ system }, 0);
  }

  /** Run (or join) the system's probe; resolves with the failure, or undefined when it succeeded. */
  function probe(system: string): Promise<DaemonError | undefined> {
    const running = probing.get(system);
    if (running) return running;
    const fn = options.probes[system];
    const attempt = (async () => {
      if (!fn) return undefined;
      try {
        const limit = timeoutSignal(options.probeTimeoutMs, stopper.signal);
        try {
          await fn(limit.signal);
        } finally {
          limit.clear();
        }
        return undefined;
      } catch (raw) {
        const error = toDaemonError(raw);
        // A system that answers "slow down" is up: its rate limit is the requests' business, not an outage.
        // (The next probe still waits out any Retry-After it gave, see recheck.)
        if (error.category === 'rate_limit') {
          const until = Date.now() + (error.retryAfterMs ?? 0);
          quietUntil.set(system, Math.max(quietUntil.get(system) ?? 0, until));
          return undefined;
        }
        return error;
      }
    })().finally(() => probing.delete(system));
    probing.set(system, attempt);
    return attempt;
  }

  function reasonOf(outage: OutageStatus): string {
    return `${outage.kind}:${outage.system}`;
  }

  function declare(system: string, kind: OutageStatus['kind'], error: DaemonError): void {
    if (outages.has(system) || stopper.signal.aborted) return;
    const status: OutageStatus = {
      system,
      kind,
      since: new Date().toISOString(),
      lastError: { code: error.code, message: error.message },
    };
    const outage: Outage = { status, delayMs: options.probeIntervalMs };
    outages.set(system, outage);
    if (intake.pause(reasonOf(status))) events.emit('intake_paused', { reason: reasonOf(status) });
    metrics?.dependencyUp.set({ dependency: system }, 0);
    if (kind === 'credential') metrics?.credentialsRefused.set({ system }, 1);
    events.emit('dependency_down', { dependency: system, kind, code: error.code, message: error.message });
    log.error(
      { dependency: system, kind, code: error.code, err: error },
      kind === 'credential'
        ? `${system} refused our credential; intake paused until it is accepted again`
        : `${system} is unavailable; intake paused, tasks keep their progress and spend no attempts`,
    );
    schedule(system, outage);
  }

  function schedule(system: string, outage: Outage): void {
    if (stopper.signal.aborted) return;
    const delay = Math.max(outage.delayMs, (quietUntil.get(system) ?? 0) - Date.now());
    outage.status.nextProbeAt = new Date(Date.now() + delay).toISOString();
    outage.timer = setTimeout(() => void recheck(system, outage), delay);
    outage.timer.unref();
  }

  async function recheck(system: string, outage: Outage): Promise<void> {
    const failure = await probe(system);
    if (stopper.signal.aborted || outages.get(system) !== outage) return;
    if (failure) {
      outage.status.lastError = { code: failure.code, message: failure.message };
      outage.delayMs = Math.min(options.maxProbeIntervalMs, outage.delayMs * 2);
      log.debug({ dependency: system, code: failure.code, nextInMs: outage.delayMs }, 'probe failed; still down');
      schedule(system, outage);
      return;
    }
    recover(system, outage);
  }

  function recover(system: string, outage: Outage): void {
    outages.delete(system);
    if (outage.timer) clearTimeout(outage.timer);
    const reason = reasonOf(outage.status);
    if (intake.resume(reason)) events.emit('intake_resumed', { reason });
    metrics?.dependencyUp.set({ dependency: system }, 1);
    metrics?.credentialsRefused.set({ system }, 0);
    events.emit('dependency_up', { dependency: system, kind: outage.status.kind });
    const downForMs = Date.now() - Date.parse(outage.status.since);
    log.info({ dependency: system, kind: outage.status.kind, downForMs }, `${system} is back; intake resumed`);
  }

  return {
    async assess(error, signal) {
      if (error.scope !== 'dependency' && error.scope !== 'credential') return true;
      const system = error.dependency;
      if (system === undefined) return false;
      if (outages.has(system)) return false;
      // It answered a probe with a rate limit a moment ago: it is up, and must not be asked again yet.
      if ((quietUntil.get(system) ?? 0) > Date.now()) return true;
      const failure = await raceAbort(probe(system), signal);
      if (failure === undefined) return true;
      // The probe itself failing the same way confirms it; a probe refused for another reason (its credential,
      // say, while the task's request met a 503) still says the system cannot serve tasks now.
      declare(system, failure.scope === 'credential' ? 'credential' : error.scope, failure);
      return false;
    },
    isDown: (system) => outages.has(system),
    outages: () => [...outages.values()].map((o) => ({ ...o.status })),
    stop() {
      stopper.abort();
      for (const outage of outages.values()) if (outage.timer) clearTimeout(outage.timer);
    },
  };
}

/** Resolve with `promise`, or undefined-as-failure-free early when the caller aborts (the probe goes on). */
async function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) throw signal.reason;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
