/** Built-in template for refactors (config name `refactor_template`). */
import { compose } from './common.js';

export const REFACTOR_TEMPLATE = compose(
  'Refactor',
  'Restructure the code as described below without changing its behaviour, and deliver it as one pull request.',
  'What to restructure',
  [
    'Behaviour must not change: the existing tests must pass without changing what they assert.',
    'Work in small, reviewable steps; do not add features or fix unrelated bugs on the way.',
    'Where the code you touch has no tests, add tests first that pin its current behaviour.',
    'Explain in the pull request description what was restructured and why.',
  ],
);
