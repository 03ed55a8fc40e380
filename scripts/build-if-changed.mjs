#!/usr/bin/env node
/**
 * `npm start`'s prestart: builds only when the build is missing or out of date, so a second `npm start` on an
 * unchanged tree starts the daemon at once instead of spending ~10 s in tsc. Out of date means: a source file
 * under src/ (tests aside) has no compiled file in dist/, or was changed after its compiled file was written, or
 * a tsconfig or package.json changed after the build. tsc rewrites every output on each build, so comparing
 * each source with its own output is exact; a deleted source leaves an unused output, which is harmless.
 *
 *   node scripts/build-if-changed.mjs           build if needed
 *   node scripts/build-if-changed.mjs --check   print what is out of date; exit 1 if anything is
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** Source files (relative to root) whose build output is missing or older than they are; [] when up to date. */
export function staleSources(root) {
  const stale = [];
  const mtime = (file) => {
    try {
      return statSync(path.join(root, file)).mtimeMs;
    } catch {
      return undefined;
    }
  };
  const entry = mtime('dist/src/main.js');
  if (entry === undefined) return ['dist/src/main.js (not built)'];
  for (const config of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) {
    if ((mtime(config) ?? 0) > entry) stale.push(config);
  }
  const walk = (dir) => {
    for (const item of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const file = path.join(dir, item.name);
      if (item.isDirectory()) walk(file);
      else if (item.name.endsWith('.ts') && !item.name.endsWith('.test.ts') && !item.name.endsWith('.d.ts')) {
        const built = mtime(path.join('dist', file.replace(/\.ts$/, '.js')));
        if (built === undefined || (mtime(file) ?? 0) > built) stale.push(file);
      }
    }
  };
  walk('src');
  return stale;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const stale = staleSources(root);
  if (process.argv.includes('--check')) {
    for (const file of stale) process.stdout.write(`${file}\n`);
    process.exit(stale.length > 0 ? 1 : 0);
  }
  if (stale.length > 0) {
    process.stderr.write(
      `building (${stale.length} file${stale.length === 1 ? '' : 's'} changed since the last build)\n`,
    );
    const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
    process.exit(result.status ?? 1);
  }
}
