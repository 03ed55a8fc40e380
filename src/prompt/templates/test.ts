/** Built-in template for test tasks (config name `test_template`). */
import { compose } from './common.js';

export const TEST_TEMPLATE = compose(
  'Tests',
  'Add or improve the tests described below and deliver them as one pull request.',
  'What to test',
  [
    'Add or improve tests only. Change production code only if a test exposes a real bug, and say so in the pull request.',
    'Test behaviour, not implementation details; cover edge cases and error paths.',
    'Keep tests deterministic: no sleeps, no real network, no dependence on the clock or on test order.',
    'Follow the existing test layout and helpers.',
  ],
);
