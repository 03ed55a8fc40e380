/** Built-in template for any other task (config name `default_template`). */
import { compose } from './common.js';

export const DEFAULT_TEMPLATE = compose(
  'Task',
  'Make the change described below and deliver it as one pull request.',
  'What to do',
  [
    'Read the relevant code first and follow its existing patterns.',
    'Keep the change focused on this task.',
    'Explain what you changed and why in the pull request description.',
  ],
);
