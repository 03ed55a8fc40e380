/**
 * PUT /replicas/{name}: a daemon that reaches the store through the Task API reports itself here (its intake,
 * breakers, budgets: what the status page shows), and learns in the answer whether people asked it to pause
 * or resume intake. The report is a small JSON object; the store keeps the last one per replica.
 */
import type { Hono } from 'hono';
import { storeOperations } from '../adapters/task-store/operations.js';
import type { TaskStore } from '../pipeline/ports.js';
import { notFoundResponse, validationResponse } from './http-errors.js';
import { readJsonBody } from './json-body.js';
import type { FieldError } from './validate.js';

/** A report larger than this is refused: it is a summary, not a log. */
export const REPLICA_REPORT_MAX_BYTES = 64 * 1024;
const NAME = /^[\x21-\x7e]{1,200}$/;

export function registerReplicaRoutes(app: Hono, store: TaskStore): void {
  app.put('/replicas/:name', async (c) => {
    const ops = storeOperations(store);
    if (!ops) return notFoundResponse(c, 'this store keeps no replica reports');
    const name = c.req.param('name');
    const body = readJsonBody(await c.req.arrayBuffer(), c.req.header('content-type'));
    if (!body.ok) return validationResponse(c, body.fields, body.message);
    const errors: FieldError[] = [];
    if (!NAME.test(name)) errors.push({ field: 'name', message: 'must be 1 to 200 printable characters' });
    const value = body.value as { startedAt?: unknown; report?: unknown } | undefined;
    const startedAt = value?.startedAt;
    if (typeof startedAt !== 'string' || !Number.isFinite(Date.parse(startedAt)))
      errors.push({ field: 'startedAt', message: 'must be an ISO-8601 timestamp' });
    const report = value?.report;
    if (!report || typeof report !== 'object' || Array.isArray(report))
      errors.push({ field: 'report', message: 'must be an object' });
    else if (JSON.stringify(report).length > REPLICA_REPORT_MAX_BYTES)
      errors.push({ field: 'report', message: `must be at most ${REPLICA_REPORT_MAX_BYTES} bytes of JSON` });
    if (errors.length > 0) return validationResponse(c, errors);
    const replica = await ops.reportReplica(name, startedAt as string, report as Record<string, unknown>);
    return c.json({ replica });
  });
}
