#!/usr/bin/env node
// `npm run mutate`: mutation testing of the money and proof core with StrykerJS (docs/testing.md).
// Each file is mutated against its OWN test files only (a mutant another file's tests happen to
// kill still counts as a survivor here), one group at a time, with the command test runner
// (`node --import tsx --test FILES`, as scripts/test.mjs runs them) and the TypeScript checker.
// Runs are incremental: a rerun tests only the mutants whose code or tests changed.
//
// Arguments are group filters: `npm run mutate -- ledger merkle` runs only those groups.
// Reports (HTML, JSON) and the incremental files go to reports/mutation/, which git ignores.
// Not part of `npm test`: a full run takes tens of minutes on one core.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { Stryker } from '@stryker-mutator/core';

const root = path.resolve(import.meta.dirname, '..');
const reportDir = 'reports/mutation';

/** One file and the tests that are its own. */
const groups = [
  { name: 'amount', mutate: 'src/ledger/amount.ts', tests: ['src/ledger/amount.test.ts'] },
  { name: 'ledger', mutate: 'src/ledger/ledger.ts', tests: ['src/ledger/ledger.test.ts'] },
  {
    name: 'split',
    mutate: 'src/ledger/split.ts',
    tests: ['src/ledger/split.test.ts', 'src/modules/scholarship/split.test.ts'],
  },
  {
    name: 'invariants',
    mutate: 'src/ledger/invariants.ts',
    tests: ['src/ledger/invariants.test.ts'],
  },
  {
    name: 'canonical',
    mutate: 'src/crypto/canonical.ts',
    tests: ['src/crypto/canonical.test.ts'],
  },
  { name: 'merkle', mutate: 'src/crypto/merkle.ts', tests: ['src/crypto/merkle.test.ts'] },
  {
    name: 'nonce-commitment',
    mutate: 'src/crypto/nonce-commitment.ts',
    tests: ['src/crypto/nonce-commitment.test.ts'],
  },
  {
    name: 'accountable',
    mutate: 'src/crypto/accountable.ts',
    tests: ['src/crypto/accountable.test.ts', 'src/crypto/accountable-guards.test.ts'],
  },
  {
    name: 'protocol-schema',
    mutate: 'src/protocol/schema.ts',
    tests: ['src/protocol/schema.test.ts'],
  },
  {
    name: 'protocol-ledger',
    mutate: 'src/protocol/ledger.ts',
    tests: ['src/protocol/ledger.test.ts'],
  },
];

/**
 * A module's groups and equivalent mutants live in its own folder, `src/modules/<name>/mutation.json`
 * ({ "groups": [...], "equivalents": [...] }, shaped as below), so a new module adds its own
 * without touching this script. Its groups run after the core's, in folder order.
 */
const moduleMutations = fs
  .readdirSync(path.join(root, 'src/modules'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => path.join(root, 'src/modules', entry.name, 'mutation.json'))
  .filter((file) => fs.existsSync(file))
  .sort()
  .map((file) => JSON.parse(fs.readFileSync(file, 'utf8')));
groups.push(...moduleMutations.flatMap((m) => m.groups ?? []));

/**
 * Mutants no test can kill because the mutated program behaves exactly as the original. Each is
 * named by its file, mutator, replacement and a piece of its source line (not by line number, so
 * edits elsewhere do not unmoor it), and by the code it replaces where a line has two alike; the reason is repeated in docs/testing.md. A listed mutant
 * that a test kills, or that no longer exists, is reported so the list stays true.
 */
const equivalents = [
  {
    file: 'src/crypto/canonical.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: "if (items.length === 0) return '[]';",
    reason:
      'A fast path: without it the loop runs zero times and returns "[" + "]", the same "[]".',
  },
  {
    file: 'src/crypto/merkle.ts',
    mutator: 'ArrayDeclaration',
    replacement: 'new Array()',
    line: 'const level = new Array<Uint8Array>(leaves.length);',
    reason:
      'Preallocating the length is only a speed hint: the loop assigns every index in order, ' +
      'so an array grown from empty ends up the same.',
  },
  {
    file: 'src/crypto/merkle.ts',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    line: 'if (position % 2 === 0) {',
    reason:
      'When position is odd the while loop inside tests position % 2 === 0 first and runs zero ' +
      'times: the if only skips a loop that would not run.',
  },
  {
    file: 'src/crypto/merkle.ts',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    line: 'while (position % 2 === 0 && position !== 0) {',
    original: 'position !== 0',
    reason:
      'The loop is entered with position === lastPosition, and lastPosition is not 0 there (the ' +
      'loop returned false before); halving a positive even number stops at an odd one, never 0.',
  },
  {
    file: 'src/crypto/merkle.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (level.length === 1) break;',
    reason:
      "In inclusionProofs: the level of length 1 is the root's, always the last, where the " +
      'position is 0 (index < count): its sibling 1 is not below the length, nothing is added, and ' +
      'the loop ends there anyway.',
  },
  {
    file: 'src/crypto/merkle.ts',
    mutator: 'EqualityOperator',
    replacement: 'byte <= HASH_LENGTH',
    line: 'for (let byte = 0; byte < HASH_LENGTH; byte++) {',
    reason:
      'Both hash and root are 32 bytes (root checked on entry), so the extra round compares ' +
      'undefined with undefined, which is equal.',
  },
  {
    file: 'src/crypto/nonce-commitment.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: "typeof height !== 'number' ||",
    original: "typeof height !== 'number'",
    reason:
      'Number.isSafeInteger is false for anything that is not a number, so the next test ' +
      'refuses the same heights with the same error.',
  },
  {
    file: 'src/crypto/nonce-commitment.ts',
    mutator: 'EqualityOperator',
    replacement: 'depth <= levels.length - 1',
    line: 'for (let depth = 0; depth < levels.length - 1; depth++) {',
    reason:
      'The extra round is at the root, a level of one node where the position is 0 (index < ' +
      'count <= 2^(levels - 1)): its sibling, 1, is not below the length, so no hash is added.',
  },
  {
    file: 'src/crypto/nonce-commitment.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    // Four spaces: verifyNonceProof's line, not nonceProofMatchesSignature's (which has no try).
    line: "    if (typeof proof !== 'object' || proof === null) return false;",
    original: 'proof === null',
    reason:
      "Inside verifyNonceProof's try: destructuring null throws a TypeError, which the catch " +
      'turns into the same false.',
  },
  // src/crypto/accountable.ts: most are guards a later step repeats inside the caller's try
  // (the guard gives a clear early answer; without it the same input throws and is caught).
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'Regex',
    replacement: '/[0-9a-f]{64}$/',
    line: 'const LOWERCASE_HEX_64 = /^[0-9a-f]{64}$/;',
    reason:
      'R and s are then decoded by fromHex(…, 32), which throws (caught: false/undefined) for any string but 64 characters; 64 characters matching the rest are all lowercase hex.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'Regex',
    replacement: '/^[0-9a-f]{64}/',
    line: 'const LOWERCASE_HEX_64 = /^[0-9a-f]{64}$/;',
    reason: "As without ^: a longer string fails fromHex(…, 32) inside the callers' try.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'EqualityOperator',
    replacement: 'result <= 0n',
    line: 'return result < 0n ? result + L : result;',
    reason:
      'A zero result becomes L: in extractSecret x = 0 or L both make Point.BASE.multiply throw (caught); in signing s ≡ 0 needs x = -k/c with c a hash of P = x*G.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (validPublicKeys.get(hex) === true) return true;',
    reason: 'A cache: without it every key is checked again, with the same answer.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (checkedSigningKeys.get(cacheKey) === true) return;',
    reason: 'A cache: without it the x*G check runs again, with the same answer.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'BooleanLiteral',
    replacement: 'true',
    line: 'point = Point.fromBytes(publicKey, false);',
    reason:
      'ZIP 215 decoding also accepts y >= p, but the next line refuses any non-canonical encoding.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (!bytesEqual(point.toBytes(), publicKey)) return false;',
    reason:
      "noble 2.x's RFC 8032 decoding already refuses y >= p and x = 0 with the sign bit set, so the check never fires.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'BooleanLiteral',
    replacement: 'true',
    line: 'if (!bytesEqual(point.toBytes(), publicKey)) return false;',
    reason: 'Unreachable branch, as above.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (!(publicKey instanceof Uint8Array) || publicKey.length !== POINT_LENGTH) return false;',
    original: 'publicKey.length !== POINT_LENGTH',
    reason:
      'A key of another length makes Point.fromBytes throw in isValidPublicKey, whose catch returns false (isAccountablePublicKey and verifyAtHeight).',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: '    if (!(publicKey instanceof Uint8Array) || publicKey.length !== POINT_LENGTH) return false;',
    original: '!(publicKey instanceof Uint8Array) || publicKey.length !== POINT_LENGTH',
    reason:
      "In verifyAtHeight's try: a non-Uint8Array makes toHex throw, a wrong length makes fromBytes fail: false either way.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (!isMessage(message)) return false;',
    reason: "accountableSignedMessage asserts the same inside verifyAtHeight's try.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    line: 'return value instanceof Uint8Array && value.length <= accountableMessageBytesMax;',
    reason:
      "Whatever isMessage lets through reaches accountableSignedMessage, which asserts the same inside the callers' try.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: "if (typeof signature !== 'object' || signature === null) return undefined;",
    reason:
      "Parsed inside the callers' try: destructuring null throws, a non-object has no height and fails the next check.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'LogicalOperator',
    replacement: "typeof signature !== 'object' && signature === null",
    line: "if (typeof signature !== 'object' || signature === null) return undefined;",
    reason: 'As the check removed.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: "if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0) return undefined;",
    original: 'height < 0',
    reason:
      "A negative height makes accountableSignedMessage/challenge throw inside the callers' try.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (!(publicKey instanceof Uint8Array) || publicKey.length !== POINT_LENGTH) return undefined;',
    reason: "challenge asserts a 32-byte Uint8Array key inside extractSecret's try.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (!isMessage(messageA) || !isMessage(messageB)) return undefined;',
    reason: "challenge asserts each message inside extractSecret's try.",
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'LogicalOperator',
    replacement: '!isMessage(messageA) && !isMessage(messageB)',
    line: 'if (!isMessage(messageA) || !isMessage(messageB)) return undefined;',
    reason: 'As the check removed.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (bytesEqual(messageA, messageB)) return undefined;',
    reason: 'Identical messages give identical challenges, refused by cA === cB.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (cA === cB) return undefined;',
    reason: 'Point.Fn.inv(0) throws inside the try.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (x === 0n) return undefined;',
    reason: 'Point.BASE.multiply(0n) throws inside the try.',
  },
  {
    file: 'src/crypto/accountable.ts',
    mutator: 'BlockStatement',
    replacement: '{}',
    line: '  } catch {',
    original: '{\n    return undefined;\n  }',
    reason: "extractSecret's catch: an empty block returns undefined too.",
  },
  // BigInt('') is 0n, as BigInt('0') is: a missing balance reads as zero either way.
  ...[
    "const next = BigInt(record[symbol] ?? '0') + delta;",
    "return BigInt(this.account(address).balances[symbol] ?? '0');",
    "if (BigInt(account.balances[symbol] ?? '0') < amount) return 'insufficient_funds';",
    "if (BigInt(payer.balances[symbol] ?? '0') < amount) return 'insufficient_funds';",
    "if (BigInt(payer.balances[spec.asset] ?? '0') < spec.amount) return 'insufficient_funds';",
  ].map((line) => ({
    file: 'src/ledger/ledger.ts',
    mutator: 'StringLiteral',
    replacement: '""',
    line,
    reason: "BigInt('') is 0n, as BigInt('0') is: a missing balance reads as zero either way.",
  })),
  // splitByWeights' tie-break (src/ledger/split.ts): V8's sort is stable and compares
  // (later, earlier), so a tie answered as "later first is not wanted" keeps the earlier first.
  {
    file: 'src/ledger/split.ts',
    mutator: 'EqualityOperator',
    replacement: 'a.rest >= b.rest',
    line: 'order.sort((a, b) => (a.rest === b.rest ? a.index - b.index : a.rest > b.rest ? -1 : 1));',
    reason:
      'Equal remainders are taken by the first branch, so the last comparison only ever sees different ones, where > and >= agree.',
  },
  {
    file: 'src/ledger/split.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'a.rest === b.rest',
    line: 'order.sort((a, b) => (a.rest === b.rest ? a.index - b.index : a.rest > b.rest ? -1 : 1));',
    reason:
      "Array.prototype.sort is stable (ES2019) and V8's TimSort asks compare(later, earlier): answering 1 for a tie keeps the earlier position first, as the explicit index tie-break does (checked on 20,000 random arrays of up to 600 items with many ties); the tie-break is kept so the rule reads in the code and holds in any engine.",
  },
  {
    file: 'src/ledger/split.ts',
    mutator: 'ArithmeticOperator',
    replacement: 'a.index + b.index',
    line: 'order.sort((a, b) => (a.rest === b.rest ? a.index - b.index : a.rest > b.rest ? -1 : 1));',
    reason:
      'For a tie, a + b of two distinct indices is positive: like the mutant above, compare(later, earlier) > 0 keeps the earlier position first in V8 stable sort.',
  },
  ...moduleMutations.flatMap((m) => m.equivalents ?? []),
];

/** Mutant statuses that count, as Stryker's own score does. */
const detected = new Set(['Killed', 'Timeout']);
const undetected = new Set(['Survived', 'NoCoverage']);

/** The source a mutant replaces (lines and columns in Stryker's results are 1-based). */
function originalOf(mutant, lines) {
  const { start, end } = mutant.location;
  const text = lines.slice(start.line - 1, end.line).join('\n');
  const endOffset = text.length - (lines[end.line - 1] ?? '').length + end.column - 1;
  return text.slice(start.column - 1, endOffset);
}

function matchesEquivalent(mutant, file, lines) {
  const line = lines[mutant.location.start.line - 1] ?? '';
  return equivalents.find(
    (e) =>
      e.file === file &&
      e.mutator === mutant.mutatorName &&
      e.replacement === mutant.replacement &&
      line.includes(e.line) &&
      (e.original === undefined || e.original === originalOf(mutant, lines)),
  );
}

/**
 * The command runner reports no per-test coverage, so Stryker's incremental mode reuses every
 * earlier result whose mutated code is unchanged, even when the tests changed. Here: when a
 * group's tests (or its command) changed since its last run, the earlier survivors are dropped
 * from the incremental file and tested again; killed mutants stay killed (tests are added to,
 * not weakened; `--force` retests everything).
 */
function forgetSurvivorsWhenTestsChanged(group) {
  const incrementalFile = `${reportDir}/${group.name}.incremental.json`;
  const hashFile = `${reportDir}/${group.name}.tests.sha256`;
  const hash = crypto.createHash('sha256');
  // The tests and the test fixtures next to them (`*-fixture.ts`, test support in a folder).
  const fixtures = [...new Set(group.tests.map((file) => path.dirname(file)))].flatMap((dir) =>
    fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('-fixture.ts'))
      .sort()
      .map((name) => path.join(dir, name)),
  );
  for (const file of [...group.tests, ...fixtures]) {
    hash.update(file).update('\0').update(fs.readFileSync(file));
  }
  const testsHash = hash.digest('hex');
  const previous = fs.existsSync(hashFile) ? fs.readFileSync(hashFile, 'utf8').trim() : undefined;
  if (previous !== testsHash && fs.existsSync(incrementalFile)) {
    const report = JSON.parse(fs.readFileSync(incrementalFile, 'utf8'));
    let dropped = 0;
    for (const file of Object.values(report.files ?? {})) {
      const kept = file.mutants.filter((m) => !undetected.has(m.status));
      dropped += file.mutants.length - kept.length;
      file.mutants = kept;
    }
    fs.writeFileSync(incrementalFile, JSON.stringify(report));
    console.log(`mutate: ${group.name}: tests changed, testing ${dropped} earlier survivors again`);
  }
  return () => fs.writeFileSync(hashFile, `${testsHash}\n`);
}

function options(group) {
  return {
    mutate: [group.mutate],
    testRunner: 'command',
    commandRunner: { command: `node --import tsx --test ${group.tests.join(' ')}` },
    coverageAnalysis: 'off',
    checkers: ['typescript'],
    // Sources only, no tests: others' tests in progress must not fail a run.
    tsconfigFile: 'tsconfig.stryker.json',
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    // One core: the machine is shared, and a mutant's test run is already a whole process.
    concurrency: 1,
    incremental: true,
    incrementalFile: `${reportDir}/${group.name}.incremental.json`,
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: `${reportDir}/${group.name}.html` },
    jsonReporter: { fileName: `${reportDir}/${group.name}.json` },
    // One sandbox folder per group: groups may run side by side (one `npm run mutate` each).
    tempDirName: `.stryker-tmp/${group.name}`,
    cleanTempDir: 'always',
    // The sandbox needs only the sources, the test harness (test/support: module tests build
    // their chains with it), the configs and node_modules (linked, not copied).
    ignorePatterns: [
      '/*',
      '!/src',
      '!/test',
      '/test/*',
      '!/test/support',
      '!/package.json',
      '!/tsconfig.json',
      '!/tsconfig.stryker.json',
    ],
    // Added to 1.5 times the unmutated run's time: a mutant that loops forever costs this much.
    timeoutMS: 20_000,
    logLevel: 'info',
    fileLogLevel: 'off',
  };
}

function score(group, results) {
  const file = group.mutate;
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  const counts = { killed: 0, survived: 0, equivalent: 0, ignored: 0, errors: 0 };
  const survivors = [];
  const equivalentSeen = new Set();
  for (const mutant of results) {
    const equivalent = matchesEquivalent(mutant, file, lines);
    if (equivalent) equivalentSeen.add(equivalent);
    if (detected.has(mutant.status)) {
      counts.killed += 1;
      if (equivalent) console.warn(`mutate: listed as equivalent but killed: ${describe(mutant)}`);
    } else if (undetected.has(mutant.status)) {
      if (equivalent) counts.equivalent += 1;
      else {
        counts.survived += 1;
        survivors.push(mutant);
      }
    } else if (mutant.status === 'Ignored') counts.ignored += 1;
    else counts.errors += 1; // CompileError, RuntimeError: not valid programs, not counted
  }
  for (const e of equivalents.filter((e) => e.file === file && !equivalentSeen.has(e))) {
    console.warn(`mutate: listed equivalent mutant not found: ${e.mutator} ${e.line}`);
  }
  const total = counts.killed + counts.survived;
  const percent = total === 0 ? 100 : (100 * counts.killed) / total;
  return { file, ...counts, total, percent, survivors };
}

function describe(mutant) {
  const { line, column } = mutant.location.start;
  return `${line}:${column} ${mutant.mutatorName} -> ${JSON.stringify(mutant.replacement)}`;
}

const force = process.argv.includes('--force');
const filters = process.argv.slice(2).filter((arg) => arg !== '--force');
// In the order the filters name them (all groups, in the order above, when none is named).
const selected =
  filters.length === 0 ? groups : filters.flatMap((f) => groups.filter((g) => g.name === f));
if (selected.length < filters.length) {
  console.error(
    `mutate: no group named ${filters.join(' ')}; groups: ${groups.map((g) => g.name)}`,
  );
  process.exit(1);
}

process.chdir(root);
fs.mkdirSync(reportDir, { recursive: true });
const summary = [];
for (const group of selected) {
  console.log(`mutate: ${group.mutate} against ${group.tests.join(' ')}`);
  const testsRecorded = forgetSurvivorsWhenTestsChanged(group);
  const results = await new Stryker({ ...options(group), force }).runMutationTest();
  testsRecorded();
  const result = score(group, results);
  for (const mutant of result.survivors) console.log(`  survived ${describe(mutant)}`);
  summary.push(result);
}

console.log("\nmutate: killed / non-equivalent mutants, by each file's own tests");
for (const r of summary) {
  console.log(
    `  ${r.file.padEnd(32)} ${String(r.killed).padStart(4)} / ${String(r.total).padEnd(4)}` +
      ` ${r.percent.toFixed(1).padStart(5)}%  (equivalent ${r.equivalent}, ` +
      `compile errors ${r.errors}, ignored ${r.ignored})`,
  );
}
// Scores of earlier runs of other groups are kept: summary.json holds the latest of each file.
const summaryFile = `${reportDir}/summary.json`;
const previous = fs.existsSync(summaryFile) ? JSON.parse(fs.readFileSync(summaryFile, 'utf8')) : [];
const latest = new Map(previous.map((r) => [r.file, r]));
for (const r of summary) latest.set(r.file, { ...r, survivors: r.survivors.map(describe) });
fs.writeFileSync(summaryFile, JSON.stringify([...latest.values()], null, 2) + '\n');
