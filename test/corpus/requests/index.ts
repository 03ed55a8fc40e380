/**
 * The corpus of malformed Task API requests, each with its expected answer; run by
 * test/integration/task-api-corpus.test.ts against the real API over a real store.
 */
import { BODY_AND_QUERY_CASES } from './bodies-and-queries.js';
import { CREATE_TASK_CASES } from './create-task.js';
import { OTHER_ROUTE_CASES } from './other-routes.js';
import type { CorpusRequest } from './types.js';

export type { CorpusRequest, Expected } from './types.js';

export const TASK_API_REQUEST_CORPUS: readonly CorpusRequest[] = [
  ...CREATE_TASK_CASES,
  ...OTHER_ROUTE_CASES,
  ...BODY_AND_QUERY_CASES,
];
