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
      deps.logger.info(
        { taskId: task.id, template: prompt.metadata.template, length: prompt.metadata.length, prompt: prompt.content },
        'dry run: prompt generated (no agent run, no PR; the task stays pending)',
      );
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

  const tick = (): void => {
    running = pollOnce()
      .catch((err: unknown) => deps.logger.warn({ err }, 'dry run: could not read tasks'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, deps.pollIntervalMs);
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
  };
}
