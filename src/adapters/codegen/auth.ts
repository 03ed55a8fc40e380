/**
 * Tracks whether the Codegen token works. After an authentication error the daemon pauses intake (it listens
 * for `auth_error`), and this module re-checks the token with GET /v1/users/me every probeIntervalMs until it
 * works again, then emits `auth_restored`. The token itself is never held here, so it cannot leak into status.
 */
import { DaemonError, toDaemonError } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { AgentApi, AgentIdentity } from '../../pipeline/ports.js';

/** Options of createCodegenAuth. */
export interface CodegenAuthOptions {
  api: Pick<AgentApi, 'whoAmI'>;
  orgId: number | string;
  /** How often the token is re-checked during an outage, in ms. */
  probeIntervalMs: number;
  logger: Logger;
  now?: () => Date;
}

/** The user behind the token, as shown in status output. */
export interface CodegenAuthUser {
  id: number;
  username?: string;
  email?: string;
}

/** What `getStatus()` reports: never the token. */
export interface CodegenAuthStatus {
  /** False only during an outage (after an authentication error, until a probe succeeds). */
  authenticated: boolean;
  user?: CodegenAuthUser;
  orgId: string;
  lastValidatedAt?: string;
  lastError?: { code: string; message: string };
}

/** Payloads of the two events. */
export interface CodegenAuthEvents {
  auth_error: { error: { code: string; message: string }; at: string };
  auth_restored: { user: CodegenAuthUser; at: string };
}
export type CodegenAuthEvent = keyof CodegenAuthEvents;
export type CodegenAuthListener<E extends CodegenAuthEvent> = (payload: CodegenAuthEvents[E]) => void;

/** Authentication state of the Codegen token. */
export interface CodegenAuth {
  /** Check the token now (GET /v1/users/me). An authentication failure starts an outage; the error is rethrown. */
  validate(signal?: AbortSignal): Promise<AgentIdentity>;
  /** Tell the tracker about a failed Codegen call; only `authentication` errors matter. */
  reportFailure(error: DaemonError): void;
  isAuthenticated(): boolean;
  /** Resolves at once outside an outage, else when the token works again. Rejects (cancelled) on abort or stop. */
  whenAuthenticated(signal?: AbortSignal): Promise<void>;
  getStatus(): CodegenAuthStatus;
  on<E extends CodegenAuthEvent>(event: E, listener: CodegenAuthListener<E>): void;
  off<E extends CodegenAuthEvent>(event: E, listener: CodegenAuthListener<E>): void;
  /** Stop probing and release waiters. */
  stop(): void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: DaemonError) => void;
}

const cancelled = (why: string) => new DaemonError(why, { code: 'cancelled', category: 'cancelled' });

/** Build the tracker. Starts out authenticated (not in an outage) and unvalidated. */
export function createCodegenAuth(options: CodegenAuthOptions): CodegenAuth {
  const now = options.now ?? (() => new Date());
  const log = options.logger.child({ dependency: 'codegen', component: 'codegen-auth' });
  const listeners = {
    auth_error: new Set<CodegenAuthListener<'auth_error'>>(),
    auth_restored: new Set<CodegenAuthListener<'auth_restored'>>(),
  };
  const waiters = new Set<Waiter>();
  let outage = false;
  let stopped = false;
  let user: CodegenAuthUser | undefined;
  let lastValidatedAt: string | undefined;
  let lastError: { code: string; message: string } | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  let probeAbort: AbortController | undefined;

  function emit<E extends CodegenAuthEvent>(event: E, payload: CodegenAuthEvents[E]): void {
    for (const listener of [...(listeners[event] as Set<CodegenAuthListener<E>>)]) {
      try {
        listener(payload);
      } catch (err) {
        // A listener's bug must not break authentication tracking.
        log.warn({ err, event }, 'codegen auth listener threw');
      }
    }
  }

  function recordSuccess(identity: AgentIdentity): void {
    user = { id: identity.userId };
    if (identity.username !== undefined) user.username = identity.username;
    if (identity.email !== undefined) user.email = identity.email;
    lastValidatedAt = now().toISOString();
    lastError = undefined;
    if (!outage) return;
    outage = false;
    clearProbe();
    log.info({ userId: user.id }, 'codegen authentication restored');
    for (const waiter of [...waiters]) waiter.resolve();
    waiters.clear();
    emit('auth_restored', { user: { ...user }, at: lastValidatedAt });
  }

  function clearProbe(): void {
    if (probeTimer) clearTimeout(probeTimer);
    probeTimer = undefined;
  }

  function scheduleProbe(): void {
    if (stopped || !outage || probeTimer) return;
    probeTimer = setTimeout(() => {
      probeTimer = undefined;
      void probe();
    }, options.probeIntervalMs);
    probeTimer.unref();
  }

  async function probe(): Promise<void> {
    probeAbort = new AbortController();
    try {
      recordSuccess(await options.api.whoAmI(probeAbort.signal));
    } catch (raw) {
      const error = toDaemonError(raw);
      if (error.category === 'authentication') lastError = { code: error.code, message: error.message };
      log.debug({ code: error.code, category: error.category }, 'codegen auth probe failed');
    } finally {
      probeAbort = undefined;
    }
    scheduleProbe();
  }

  function reportFailure(error: DaemonError): void {
    if (error.category !== 'authentication' || stopped) return;
    lastError = { code: error.code, message: error.message };
    if (outage) return;
    outage = true;
    log.error({ code: error.code, status: error.status }, 'codegen authentication failed; probing until it works');
    emit('auth_error', { error: { ...lastError }, at: now().toISOString() });
    scheduleProbe();
  }

  return {
    async validate(signal) {
      try {
        const identity = await options.api.whoAmI(signal);
        recordSuccess(identity);
        return identity;
      } catch (raw) {
        const error = toDaemonError(raw);
        reportFailure(error);
        throw error;
      }
    },
    reportFailure,
    isAuthenticated: () => !outage,
    whenAuthenticated(signal) {
      if (!outage) return Promise.resolve();
      if (stopped) return Promise.reject(cancelled('codegen auth tracker stopped'));
      if (signal?.aborted) return Promise.reject(cancelled('wait for codegen authentication was cancelled'));
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          waiters.delete(waiter);
          reject(cancelled('wait for codegen authentication was cancelled'));
        };
        const waiter: Waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          reject: (error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        waiters.add(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    getStatus() {
      const status: CodegenAuthStatus = { authenticated: !outage, orgId: String(options.orgId) };
      if (user) status.user = { ...user };
      if (lastValidatedAt) status.lastValidatedAt = lastValidatedAt;
      if (lastError) status.lastError = { ...lastError };
      return status;
    },
    on(event, listener) {
      (listeners[event] as Set<typeof listener>).add(listener);
    },
    off(event, listener) {
      (listeners[event] as Set<typeof listener>).delete(listener);
    },
    stop() {
      stopped = true;
      clearProbe();
      probeAbort?.abort();
      for (const waiter of [...waiters]) waiter.reject(cancelled('codegen auth tracker stopped'));
      waiters.clear();
    },
  };
}
