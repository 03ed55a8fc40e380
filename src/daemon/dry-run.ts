/**
 * Dry run: without Codegen or GitHub credentials the daemon still shows what it would do. It reads pending
 * tasks (claiming nothing, changing nothing), renders each one's prompt once and logs it.
 */
import type { Logger } from '../observability/logger.js';
import type { PromptRenderer } from '../pipeline/context.js';
import type { TaskStore } from '../pipeline/ports.js';
import type { DaemonEvents } from './events.js';

export interface DryRunLoop {
  start(): void;
  stop(): Promise<void>;
  /** One look at the queue; resolves with how many new prompts were generated. */
  pollOnce(): Promise<number>;
  /** Look now rather than at the next poll (a task was just added); a look already running is not repeated. */
  wake(): void;
}

/** Characters of a prompt shown in the dry run's info line. */
export const PROMPT_HEAD_CHARS = 160;

/** The start of a prompt on one line, with an ellipsis when cut. */
export function promptHead(content: string): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  return flat.length > PROMPT_HEAD_CHARS ? `${flat.slice(0, PROMPT_HEAD_CHARS - 1)}…` : flat;
}

export function createDryRunLoop(deps: {
  store: Pick<TaskStore, 'listTasks'>;
  prompts: PromptRenderer;
  defaultRepository: string;
  batchSize: number;
  pollIntervalMs: number;
  events: DaemonEvents;
  logger: Logger;
}): DryRunLoop {
  const seen = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  async function pollOnce(): Promise<number> {
    const page = await deps.store.listTasks({ status: 'pending', limit: Math.max(deps.batchSize, 50) });
    let generated = 0;
    for (const task of page.tasks) {
      if (seen.has(task.id)) continue;
      seen.add(task.id);
      if (seen.size > 10_000) seen.delete(seen.values().next().value as string);
      const repository = task.repository || deps.defaultRepository || undefined;
      const prompt = deps.prompts.render(task, { ...(repository ? { repository } : {}), attempt: task.attempts + 1 });
      // A prompt runs to thousands of characters: the info line carries its length and head, the whole text is
      // logged at debug (LOG_LEVEL=debug) and emitted with prompt_generated.
      const { template, length } = prompt.metadata;
      deps.logger.info(
        { taskId: task.id, template, length, head: promptHead(prompt.content) },
        'dry run: prompt generated (no agent run, no PR; the task stays pending)',
      );
      deps.logger.debug({ taskId: task.id, prompt: prompt.content }, 'dry run: the whole prompt');
      deps.events.emit('prompt_generated', {
        taskId: task.id,
        template: prompt.metadata.template,
        length: prompt.metadata.length,
        content: prompt.content,
      });
      generated += 1;
    }
    return generated;
  }

  let polling = false;
  // A wake during a look asks for one more look right after it: the new task may have missed the running one.
  let again = false;
  const tick = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    polling = true;
    running = pollOnce()
      .catch((err: unknown) => deps.logger.warn({ err }, 'dry run: could not read tasks'))
      .finally(() => {
        polling = false;
        if (!stopped) timer = setTimeout(tick, again ? 0 : deps.pollIntervalMs);
        again = false;
      });
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    pollOnce,
    wake() {
      if (stopped) return;
      if (polling) again = true;
      else tick();
    },
  };
}
