/**
 * Turn a TypeScript entry script and everything it imports relatively into plain ESM JavaScript in a temporary
 * directory, so tests can start it as `node script.js`. Loading a TypeScript compiler in every child process
 * (node --loader ts-node/esm) costs about a second of CPU each; starting several at once on a small CI machine
 * took longer than the test itself.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';

export interface TranspiledScript {
  /** Absolute path of the entry's .js file. */
  entry: string;
  /** Remove the temporary directory. */
  cleanup(): Promise<void>;
}

const RELATIVE_IMPORT = /\bfrom\s+'(\.{1,2}\/[^']+)\.js'/g;

/**
 * Transpile `entryTs` (absolute) and its relative imports, keeping their layout under `repoRoot`. Package
 * imports resolve through a link to the repository's node_modules.
 */
export async function transpileScript(entryTs: string, repoRoot: string): Promise<TranspiledScript> {
  const dir = await mkdtemp(path.join(tmpdir(), 'codegen-pr-script-'));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');

  const pending = [entryTs];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, 'utf8');
    for (const match of source.matchAll(RELATIVE_IMPORT)) {
      pending.push(path.resolve(path.dirname(file), `${match[1]}.ts`));
    }
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        verbatimModuleSyntax: false,
      },
    });
    const out = path.join(dir, path.relative(repoRoot, file)).replace(/\.ts$/, '.js');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  return {
    entry: path.join(dir, path.relative(repoRoot, entryTs)).replace(/\.ts$/, '.js'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
