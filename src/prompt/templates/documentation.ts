/** Built-in template for documentation tasks (config name `docs_template`). */
import { compose } from './common.js';

export const DOCUMENTATION_TEMPLATE = compose(
  'Documentation',
  'Write or update the documentation described below and deliver it as one pull request.',
  'What to document',
  [
    'Change documentation only (README, docs, guides, doc comments); do not change behaviour.',
    'Check every code example, command and option name against the current code.',
    'Keep the existing structure, tone and formatting; fix broken links you come across.',
    'Prefer short, concrete examples a reader can copy and run.',
  ],
);
