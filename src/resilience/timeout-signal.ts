/**
 * A signal that aborts after `ms`, or when any parent aborts, built on an AbortController and a timer.
 *
 * Not AbortSignal.any([..., AbortSignal.timeout(ms)]): on Node 20 a timeout signal held only by AbortSignal.any
 * can be garbage-collected before it fires, and then the composite never aborts (seen here: a GitHub request
 * with a 1.5 s timeout hung for minutes under load; 100 of 100 such signals never fired after a forced GC). The
 * timer here holds its controller until it fires or is cleared, so the deadline always holds.
 */
export interface TimeoutSignal {
  signal: AbortSignal;
  /** Stop the timer and forget the parents (call once the guarded work is over). */
  clear(): void;
}

export function timeoutSignal(ms: number, ...parents: Array<AbortSignal | undefined>): TimeoutSignal {
  const controller = new AbortController();
  const present = parents.filter((p): p is AbortSignal => p !== undefined);
  const onParentAbort = function (this: AbortSignal): void {
    controller.abort(this.reason);
  };
  const timer = setTimeout(
    () => controller.abort(new DOMException(`The operation timed out after ${ms} ms`, 'TimeoutError')),
    Math.min(Math.max(0, ms), 2_147_483_647),
  );
  // The guarded work keeps the process alive if it must; a pending deadline alone should not.
  timer.unref();
  const clear = (): void => {
    clearTimeout(timer);
    for (const parent of present) parent.removeEventListener('abort', onParentAbort);
  };
  for (const parent of present) {
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    parent.addEventListener('abort', onParentAbort, { once: true });
  }
  controller.signal.addEventListener('abort', clear, { once: true });
  return { signal: controller.signal, clear };
}
