/**
 * The task section of a PR body: a short block linking the PR back to its task and agent run, fenced by HTML
 * comment markers so it can be found and replaced. Pure functions: running the upsert twice adds it once, and
 * whatever people wrote around it is left alone. Task text in it is quoted the way prompts quote it.
 */
import { inlineField, PROMPT_LIMITS } from '../../prompt/task-text.js';
import { cleanLine } from '../../prompt/untrusted.js';

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

/** Longest title shown; the Task API's own cap, so only rows written around it are ever cut. */
const MAX_TITLE = PROMPT_LIMITS.title;

/**
 * Task text as GitHub will render it: cleaned of control and bidi characters, on one line, capped, inside a
 * code span it cannot close. A code span shows its text literally, so the title cannot open links, images,
 * emphasis or HTML, and cannot @-mention anyone.
 */
function quoted(text: string, max: number): string | undefined {
  return inlineField(text, max).value;
}

/**
 * `[text](<url>)`: the pointy-bracket destination takes parentheses and other punctuation literally, so an odd
 * character in a URL cannot end the link early. A URL that even that form cannot hold (space, line break,
 * angle bracket, backslash, a control or bidi character) is not linked at all.
 */
function link(text: string, url: string | undefined): string {
  if (!url || cleanLine(url) !== url || /[\s<>\\]/.test(url)) return text;
  return `[${text}](<${url}>)`;
}

/** Render the task section, markers included. */
export function renderTaskSection(input: TaskSectionInput): string {
  const title = quoted(input.taskTitle, MAX_TITLE) ?? 'Untitled task';
  const id = quoted(input.taskId, PROMPT_LIMITS.taskId) ?? '(no id)';
  const lines = [taskSectionMarker(input.taskId), '---', `**Task:** ${link(title, input.taskUrl)} (${id})`];
  if (input.agentRunUrl || input.agentRunId !== undefined) {
    const name = input.agentRunId !== undefined ? `#${input.agentRunId}` : 'run';
    lines.push(`**Agent run:** ${link(name, input.agentRunUrl)}`);
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
