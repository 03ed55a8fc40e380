/**
 * `npm run lint:openapi`: write the Task API's OpenAPI document (from the build in dist/) to a temporary file
 * and lint it with Spectral under the ruleset kept in .spectral.yaml (spectral:oas). Warnings fail too: the
 * document is meant to stay clean.
 */
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { TASK_API_OPENAPI } = await import(pathToFileURL(path.join(root, 'dist/src/task-api/openapi.js')).href);
const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-openapi-'));
const file = path.join(dir, 'task-api.openapi.json');
try {
  writeFileSync(file, `${JSON.stringify(TASK_API_OPENAPI, null, 2)}\n`);
  const spectral = createRequire(import.meta.url).resolve('@stoplight/spectral-cli/dist/index.js');
  const ruleset = path.join(root, '.spectral.yaml');
  const args = [spectral, 'lint', '--ruleset', ruleset, '--fail-severity', 'warn', file];
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
