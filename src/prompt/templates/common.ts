/**
 * Blocks every built-in template shares. Each template is still one complete text (a user template replaces it
 * whole), composed here from these blocks so the six stay consistent. See `index.ts` for the variables.
 */

/** Title, one-line purpose, the facts (task id, repository, base branch), description and acceptance criteria. */
export function header(heading: string, purpose: string, descriptionHeading: string): string {
  return `# ${heading}: {{TASK_TITLE}}

${purpose}

- Task: \`{{TASK_ID}}\` ({{TASK_TYPE}}, priority {{TASK_PRIORITY}})
- Repository: {{REPOSITORY_REF}}
- Base branch: \`{{BASE_BRANCH}}\`
{{?TASK_LABELS}}
- Labels: {{TASK_LABELS}}
{{/TASK_LABELS}}

## ${descriptionHeading}

{{TASK_DESCRIPTION}}

{{?ACCEPTANCE_CRITERIA}}
## Acceptance criteria

{{#ACCEPTANCE_CRITERIA}}
- {{.}}
{{/ACCEPTANCE_CRITERIA}}

{{/ACCEPTANCE_CRITERIA}}
`;
}

/** A numbered "how to approach it" list. */
export function approach(steps: string[]): string {
  return `## How to approach it\n\n${steps.map((step, i) => `${i + 1}. ${step}`).join('\n')}\n\n`;
}

function contextList(name: string, intro: string): string {
  return `{{?${name}}}
${intro}

{{#${name}}}
- {{.}}
{{/${name}}}

{{/${name}}}
`;
}

/** The task's context (files, related files, dependencies, links, other), and the truncation note. */
export const CONTEXT = `{{?CONTEXT}}
## Context

${contextList('FILES', 'Files involved:')}${contextList('RELATED_FILES', 'Related files to read first:')}${contextList(
  'DEPENDENCIES',
  'Dependencies:',
)}${contextList('LINKS', 'Links:')}${contextList('NOTES', 'Other context:')}{{?CONTEXT_NOTE}}
Note: {{CONTEXT_NOTE}}

{{/CONTEXT_NOTE}}
{{/CONTEXT}}
`;

/** Code style and the quality bar. */
export const STANDARDS = `## Code style

{{#CODE_STYLE}}
- {{.}}
{{/CODE_STYLE}}
- Follow the conventions already used in the repository.

## Quality requirements

{{#QUALITY}}
- {{.}}
{{/QUALITY}}

`;

/** Only on a retry: what failed last time and what to do differently. */
export const RETRY = `{{?RETRY}}
## Attempt {{ATTEMPT}}: what went wrong last time

{{PREVIOUS_ERROR}}

{{?RETRY_HINTS}}
To do better this time:

{{#RETRY_HINTS}}
- {{.}}
{{/RETRY_HINTS}}

{{/RETRY_HINTS}}
{{/RETRY}}
`;

/** Branch, commit message, sign-off and the pull request: the part the daemon depends on to find the work. */
export const DELIVERY = `## Deliver it as one pull request

- Branch: push your work to \`{{BRANCH}}\`, created from \`{{BASE_BRANCH}}\`. Use exactly this name: it is how this task finds its pull request. If the branch already exists, continue on it.
- Commit message (use it as written):

{{COMMIT_MESSAGE_BLOCK}}

{{?SIGN_OFF}}
- Sign off every commit (\`git commit -s\`) so that each one carries a \`Signed-off-by:\` line.
{{/SIGN_OFF}}
- Pull request: open one pull request from \`{{BRANCH}}\` against \`{{BASE_BRANCH}}\`{{?REPOSITORY}} in \`{{REPOSITORY}}\`{{/REPOSITORY}} with the title "{{TASK_TITLE}}", and write \`Task: {{TASK_ID}}\` in its description so that it can be traced back to this task. If a pull request from this branch is already open, update it instead of opening another.
- Leave the pull request open for review; do not merge it.
- If the task turns out to need no change, do not push an empty branch: say why in your final message.
`;

/** A whole template from its type-specific parts. */
export function compose(heading: string, purpose: string, descriptionHeading: string, steps: string[]): string {
  return header(heading, purpose, descriptionHeading) + approach(steps) + CONTEXT + STANDARDS + RETRY + DELIVERY;
}
