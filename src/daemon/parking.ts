/**
 * Repositories whose tasks are parked: a repository-scoped failure (GitHub refuses access to it, Codegen has no
 * such repository connected) says every task of that repository would fail the same way until someone fixes the
 * access. Its tasks wait until the park ends, with a message saying what to fix, and the other repositories' tasks
 * flow. Kept in this process; the tasks themselves carry the reason and the time they are retried (their
 * lastError and nextRunAt), so other replicas and the status page see the same thing.
 */
import type { DaemonError } from '../domain/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { DaemonEvents } from './events.js';

export interface Park {
  repository: string;
  until: number;
  code: string;
  message: string;
}

export interface RepositoryParks {
  /** Park `repository` until `until` (epoch ms) for `error`; a longer park already in force is kept. */
  park(repository: string, until: number, error: Pick<DaemonError, 'code' | 'message'>): void;
  /** The park in force for `repository`, if any. */
  parked(repository: string, now?: number): Park | undefined;
  list(now?: number): Park[];
}

export function createRepositoryParks(deps: { events: DaemonEvents; metrics?: Metrics; now?: () => number }) {
  const clock = deps.now ?? Date.now;
  const parks = new Map<string, Park>();
  const key = (repository: string): string => repository.toLowerCase();

  const prune = (now: number): void => {
    for (const [k, p] of parks) if (p.until <= now) parks.delete(k);
    deps.metrics?.repositoriesParked.set(parks.size);
  };

  const api: RepositoryParks = {
    park(repository, until, error) {
      const now = clock();
      prune(now);
      const current = parks.get(key(repository));
      if (current && current.until >= until) return;
      parks.set(key(repository), { repository, until, code: error.code, message: error.message });
      deps.metrics?.repositoriesParked.set(parks.size);
      deps.events.emit('repository_parked', {
        repository,
        until: new Date(until).toISOString(),
        code: error.code,
        message: error.message,
      });
    },
    parked(repository, now = clock()) {
      prune(now);
      return parks.get(key(repository));
    },
    list(now = clock()) {
      prune(now);
      return [...parks.values()].map((p) => ({ ...p }));
    },
  };
  return api;
}
