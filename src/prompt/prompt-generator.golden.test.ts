/**
 * Golden files: the exact prompt for each task type, and for a retry. Compared byte for byte; run with
 * UPDATE_GOLDEN=1 to rewrite them, then read the diff before committing.
 */
import { describe, it } from '@jest/globals';
import type { Task } from '../domain/task.js';
import { PromptGenerator } from './prompt-generator.js';
import type { PromptOptions } from './prompt-vars.js';
import { defaultConfig, gitSettings, makeTask } from '../../test/fixtures/prompt-fixtures.js';
import { checkGolden } from '../../test/fixtures/golden.js';

const config = defaultConfig();
const generator = new PromptGenerator(config.promptGenerator, gitSettings(config));

const cases: [string, Task, PromptOptions][] = [
  [
    'feature',
    makeTask({
      context: {
        acceptanceCriteria: [
          'POST /login returns a signed JWT for valid credentials',
          'Requests without a valid token get 401',
        ],
        files: ['src/routes/login.ts', 'src/middleware/auth.ts'],
        relatedFiles: [{ path: 'src/users/store.ts', description: 'where users and password hashes live' }],
        dependencies: { jsonwebtoken: '^9.0.0' },
        links: ['https://datatracker.ietf.org/doc/html/rfc7519'],
        tokenLifetime: '1h',
      },
    }),
    {},
  ],
  [
    'bugfix',
    makeTask({
      id: '42',
      type: 'bugfix',
      priority: 'critical',
      title: 'Crash when the config file is empty',
      description:
        'Starting the daemon with an empty `config/default.json` throws `SyntaxError: Unexpected end of JSON input`.\n\nAn empty file should be treated like a missing one.',
      labels: ['bug'],
      context: { files: ['src/config/load.ts'], acceptanceCriteria: ['An empty config file is ignored'] },
    }),
    {},
  ],
  [
    'refactor',
    makeTask({
      id: 'REF-7',
      type: 'refactor',
      priority: 'medium',
      title: 'Split the order service into read and write parts',
      description: 'OrderService has grown to 900 lines. Split queries and commands into two classes.',
      labels: [],
      context: { files: ['src/orders/order-service.ts'] },
    }),
    {},
  ],
  [
    'documentation',
    makeTask({
      id: 'docs-1',
      type: 'documentation',
      priority: 'low',
      title: 'Document the retry settings',
      description: 'The README does not explain feedbackHandler.retry. Add a section with the defaults and an example.',
      labels: ['docs'],
      repository: undefined,
    }),
    {},
  ],
  [
    'test',
    makeTask({
      id: 't-9',
      type: 'test',
      priority: 'medium',
      title: 'Cover the rate limiter',
      description: 'src/resilience/limiter.ts has no tests. Cover the per-minute budget and the shared Redis budget.',
      labels: ['tests'],
      context: { files: ['src/resilience/limiter.ts'] },
    }),
    {},
  ],
  [
    'default',
    makeTask({
      id: 'misc-3',
      type: 'default',
      priority: 'low',
      title: 'Bump the Node version in CI',
      description: 'CI still runs Node 18. Run it on Node 20, 22 and 24.',
      labels: [],
    }),
    {},
  ],
  [
    'retry-attempt',
    makeTask({ attempts: 2, context: { files: ['src/routes/login.ts'] } }),
    {
      attempt: 2,
      previousError: {
        category: 'agent',
        code: 'agent-no-changes',
        message: 'agent run 981 completed without a pull request or a pushed branch',
      },
      suggestions: ['Start from src/routes/login.ts; the login route is not there yet.'],
    },
  ],
];

describe('prompt golden files', () => {
  it.each(cases)('%s', (name, task, options) => {
    checkGolden(`prompts/${name}.md`, generator.render(task, options).content);
  });
});
