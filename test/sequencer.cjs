/**
 * The order jest starts test files in. A fresh CI clone has no timing cache, so jest would order by file size;
 * instead the 3-minute outage suite (which mostly waits) starts first and overlaps everything, then the
 * CPU-heavy soaks, then the rest as jest would order them.
 */
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = [
  'test/e2e/outage.e2e.test.ts',
  'test/e2e/crash-soak.e2e.test.ts',
  'test/e2e/replicas.e2e.test.ts',
  'test/e2e/faults.e2e.test.ts',
];

class LongFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const index = FIRST.findIndex((suffix) => test.path.endsWith(suffix));
      return index === -1 ? FIRST.length : index;
    };
    const rest = super.sort(tests.filter((t) => rank(t) === FIRST.length));
    return [...tests.filter((t) => rank(t) < FIRST.length).sort((a, b) => rank(a) - rank(b)), ...rest];
  }
}

module.exports = LongFirst;
