/**
 * The task section of a PR body: a short block linking the PR back to its task and agent run, fenced by HTML
 * comment markers so it can be found and replaced. Pure functions: running the upsert twice adds it once, and
 * whatever people wrote around it is left alone.
 */

/** What the task section shows. */
export interface TaskSectionInput {
  taskId: string;
  taskTitle: string;
  taskUrl?: string;
  agentRunUrl?: string;
  agentRunId?: number;
}

const END_MARKER = '<!-- /codegen-pr:task -->';

/** The opening marker for one task. The id is percent-encoded so it cannot close the HTML comment early. */
export function taskSectionMarker(taskId: string): string {
  return `<!-- codegen-pr:task:${encodeURIComponent(taskId)} -->`;
}

/** Keep a title on one line and stop it from opening links or emphasis. */
function inline(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/([\\`*_[\]<>])/g, '\\$1');
}

/** Render the task section, markers included. */
export function renderTaskSection(input: TaskSectionInput): string {
  const title = inline(input.taskTitle) || 'Untitled task';
  const task = input.taskUrl ? `[${title}](${input.taskUrl})` : title;
  const lines = [taskSectionMarker(input.taskId), '---', `**Task:** ${task} (\`${inline(input.taskId)}\`)`];
  if (input.agentRunUrl || input.agentRunId !== undefined) {
    const name = input.agentRunId !== undefined ? `#${input.agentRunId}` : 'run';
    lines.push(`**Agent run:** ${input.agentRunUrl ? `[${name}](${input.agentRunUrl})` : name}`);
  }
  lines.push('', '_This section is maintained by codegen-pr; edits inside it will be replaced._', END_MARKER);
  return lines.join('\n');
}

/** GitHub may hand back bodies edited in the browser with CRLF line ends; compare without them. */
const normalize = (text: string): string => text.replace(/\r\n/g, '\n');

/**
 * Put `section` into `body`: replace the section for `taskId` if there is one, else append it.
 * `changed` is false when the body already carries exactly this section, so callers can skip the update.
 */
export function upsertTaskSection(
  body: string | null,
  section: string,
  taskId: string,
): { body: string; changed: boolean } {
  const current = normalize(body ?? '');
  const start = taskSectionMarker(taskId);
  const wrapped = section.startsWith(start) ? section : `${start}\n${section}\n${END_MARKER}`;
  const from = current.indexOf(start);
  if (from === -1) {
    const trimmed = current.trimEnd();
    return { body: trimmed ? `${trimmed}\n\n${wrapped}` : wrapped, changed: true };
  }
  const endAt = current.indexOf(END_MARKER, from);
  // A section whose end marker was deleted by hand runs to the end of the body.
  const to = endAt === -1 ? current.length : endAt + END_MARKER.length;
  if (current.slice(from, to) === wrapped) return { body: body ?? '', changed: false };
  return { body: current.slice(0, from) + wrapped + current.slice(to), changed: true };
}
