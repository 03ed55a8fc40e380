/**
 * A TaskStore that goes through the owner of a data directory: the Task API client (src/adapters/task-api/
 * client.ts) pointed at the owner's loopback endpoint, with its bearer key from owner.json, plus the owner's bulk
 * add route so a batch of any size is added in one transaction. Errors come back with the codes the embedded
 * store itself throws (stale-lease, invalid-transition, task-exists, task-not-found, validation).
 */
import type { Task } from '../../domain/task.js';
import type { Logger } from '../../observability/logger.js';
import type { TaskStore } from '../../pipeline/ports.js';
import { classifyRequestFailure, classifyResponse } from '../task-api/classify.js';
import { createHttpTaskStore } from '../task-api/client.js';
import { parseTaskList } from '../task-api/schema.js';
import type { OwnerEndpoint } from './endpoint.js';
import { BULK_ADD_PATH } from './serve.js';
import { timeoutSignal } from '../../resilience/timeout-signal.js';

export interface ConnectOptions {
  logger: Logger;
  /** Timeout of one request, in ms. */
  timeoutMs: number;
}

/** A store reached through the owner described by `endpoint` (which must carry url and token). */
export function storeThroughOwner(endpoint: OwnerEndpoint, options: ConnectOptions): TaskStore {
  const { url, token } = endpoint;
  if (!url || !token) throw new Error('this owner does not serve its store');
  const remote = createHttpTaskStore({
    baseUrl: url,
    apiKey: token,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  });
  return {
    ...remote,
    async addTasks(tasks, actor, signal): Promise<Task[]> {
      if (tasks.length === 0) return [];
      const limit = timeoutSignal(options.timeoutMs, signal);
      let response: Response;
      let text: string;
      try {
        response = await fetch(`${url}${BULK_ADD_PATH}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tasks, ...(actor !== undefined ? { actor } : {}) }),
          signal: limit.signal,
        });
        text = await response.text();
      } catch (error) {
        throw classifyRequestFailure(error, options.timeoutMs);
      } finally {
        limit.clear();
      }
      let body: unknown;
      try {
        body = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        body = undefined;
      }
      if (!response.ok) throw classifyResponse(response.status, body);
      return parseTaskList(body, 'created tasks');
    },
  };
}
