/** The prompt generator: tasks to Codegen prompts. Pure apart from `loadUserTemplates` (startup I/O). Also the
 * cleaning, capping and fencing of untrusted text, for other places that show task text (PR bodies, the CLI). */
export { PromptGenerator, toPromptTask } from './prompt-generator.js';
export type { PromptTaskInput } from './prompt-generator.js';
export type { GeneratedPrompt, GitSettings, PromptGeneratorStatus, PromptOptions } from './prompt-generator.js';
export { renderTemplate, parseTemplate, templateNames } from './render.js';
export type { TemplateVars } from './render.js';
export { extractContext, collectContext, CONTEXT_KINDS } from './context.js';
export type { ContextKind, PromptContext } from './context.js';
export { branchNameForTask, isValidBranchName, renderCommitMessage } from './git-naming.js';
export { qualityRequirements } from './prompt-vars.js';
export { loadUserTemplates } from './template-loader.js';
export { BUILT_IN_TEMPLATES, DEFAULT_TEMPLATE_NAMES, TEMPLATE_VARIABLES } from './templates/index.js';
export { capText, cleanBlock, cleanLine, isStrippedCodePoint, stripUnsafe, truncationMarker } from './untrusted.js';
export { fenceBlock, inlineCode, limitFenceRuns, longestFenceRun, MAX_FENCE_RUN } from './fence.js';
export { PROMPT_LIMITS } from './task-text.js';
