/** Built-in template for feature tasks (config name `feature_template`). */
import { compose } from './common.js';

export const FEATURE_TEMPLATE = compose(
  'Feature',
  'Implement the feature described below and deliver it, working and tested, as one pull request.',
  'What to build',
  [
    'Read the code around the change first and follow its existing patterns and structure.',
    'Implement the feature completely: the code, its wiring, and any configuration or migration it needs.',
    'Keep public interfaces backward compatible unless the task says otherwise.',
    'Cover the new behaviour with tests, including edge cases and error cases.',
  ],
);
