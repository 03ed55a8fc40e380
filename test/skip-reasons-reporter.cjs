/**
 * Says why a test file was skipped. jest's default reporter prints nothing at all for a file whose every test
 * was skipped, not even what the file logged, so a suite skipped for lack of DATABASE_URL (which logs its reason
 * with console.warn at load) would pass by in silence. This reporter prints, for each such file, what it logged,
 * or that it gave no reason.
 */
const path = require('node:path');
const process = require('node:process');

/** The lines to print for one test file's result; [] unless the whole file was skipped. */
function skipReasonLines(result, rootDir) {
  if (!result.skipped) return [];
  const file = path.relative(rootDir, result.testFilePath);
  const said = (result.console ?? [])
    .filter((entry) => ['warn', 'info', 'log'].includes(entry.type))
    .map((entry) => String(entry.message).trim())
    .filter(Boolean);
  if (said.length === 0) return [`skipped ${file}: no reason given`];
  return said.map((message) => `skipped ${file}: ${message}`);
}

class SkipReasonsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onTestResult(_test, result) {
    for (const line of skipReasonLines(result, this.rootDir)) process.stderr.write(`${line}\n`);
  }
}

module.exports = SkipReasonsReporter;
module.exports.skipReasonLines = skipReasonLines;
