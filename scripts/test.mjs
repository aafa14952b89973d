#!/usr/bin/env node
// The README's test command: builds the node and the web console (the cross-process tests run the
// built CLI, which serves dist/web), then runs every *.test.ts under src/, web/src/ and test/ with
// Node's test runner. Extra arguments are file filters: `npm test -- ledger` runs only the files
// whose path contains "ledger".
//
// Integration tests run real servers (see STYLE.md, "Tests"). Before running, the runner makes
// sure the programs the selected test files need are installed, installing the Debian package
// with apt-get when one is missing and saying so. When it cannot install one (not root, no apt,
// no network), it says exactly why and fails: a missing server never turns into skipped tests.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const filters = process.argv.slice(2);

/**
 * The programs integration tests need. A test file needs a program when its source mentions one
 * of the `usedBy` strings (the support module that starts the program). To add one (postgresql,
 * mosquitto, chromium): the command to find, the Debian package that provides it, who needs it.
 */
const systemPrograms = [
  {
    command: 'nats-server',
    debianPackage: 'nats-server',
    neededBy: 'the cluster tests',
    usedBy: ['support/nats.js'],
  },
  {
    command: 'mosquitto',
    debianPackage: 'mosquitto',
    neededBy: 'the IoT payments tests',
    usedBy: ['support/mosquitto.js'],
  },
  {
    command: 'socat',
    debianPackage: 'socat',
    neededBy: 'the 3D printing tests (the virtual printer on a pseudo-terminal)',
    usedBy: ['virtual-printer.js'],
  },
  {
    command: 'chromium',
    debianPackage: 'chromium',
    neededBy: 'the browser tests',
    usedBy: ['support/chromium.js'],
  },
];

/** How much apt-get output to show when an installation fails. */
const aptOutputLinesMax = 30;

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : findTests(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Where `command` is on PATH (or in the sbin directories, which a PATH may lack), or undefined. */
function findProgram(command) {
  const dirs = [
    ...(process.env.PATH ?? '').split(path.delimiter),
    '/usr/local/sbin',
    '/usr/sbin',
    '/sbin',
  ];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function fail(message) {
  console.error(`test: ${message}`);
  process.exit(1);
}

function apt(args) {
  const result = spawnSync('apt-get', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return { ok: result.status === 0 && !result.error, output, error: result.error };
}

function tail(output) {
  return output.trimEnd().split('\n').slice(-aptOutputLinesMax).join('\n');
}

/** Installs the Debian package that provides `program`, or exits saying why it could not. */
function install(program) {
  const { command, debianPackage, neededBy } = program;
  console.error(`${command} not found: installing it with apt-get (needed by ${neededBy})`);
  const cannot = `cannot install ${command} (needed by ${neededBy})`;
  const manually = `install it (apt-get install -y ${debianPackage}) and run the tests again`;
  if (process.platform !== 'linux' || !findProgram('apt-get')) {
    fail(`${cannot}: apt-get is not available on this machine; ${manually}`);
  }
  if (process.getuid?.() !== 0) {
    fail(`${cannot}: apt-get needs root and this runs as uid ${process.getuid?.()}; ${manually}`);
  }
  let attempt = apt(['install', '-y', '-q', debianPackage]);
  // A fresh machine may have no package lists yet: update them once, then try again.
  if (
    !attempt.ok &&
    /Unable to locate package|has no installation candidate|404\s+Not Found/.test(attempt.output)
  ) {
    console.error(`apt-get does not know ${debianPackage} yet: running apt-get update first`);
    const update = apt(['update', '-q']);
    if (!update.ok) {
      fail(`${cannot}: apt-get update failed (network?):\n${tail(update.output)}\n${manually}`);
    }
    attempt = apt(['install', '-y', '-q', debianPackage]);
  }
  if (!attempt.ok) {
    const why = attempt.error ? String(attempt.error) : tail(attempt.output);
    fail(`${cannot}: apt-get install -y ${debianPackage} failed:\n${why}\n${manually}`);
  }
  const found = findProgram(command);
  if (!found)
    fail(`${cannot}: apt-get installed ${debianPackage} but ${command} is still not on PATH`);
  console.error(`${command} installed: ${found}`);
}

console.log(
  'test: building the node (tsc -p tsconfig.build.json) and the web console (vite build)',
);
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
execFileSync(
  process.execPath,
  [
    path.join(root, 'node_modules/vite/bin/vite.js'),
    'build',
    '--config',
    'web/vite.config.ts',
    '--logLevel',
    'warn',
  ],
  { cwd: root, stdio: 'inherit' },
);

const files = [
  ...findTests(path.join(root, 'src')),
  ...findTests(path.join(root, 'web/src')),
  ...findTests(path.join(root, 'test')),
]
  .map((file) => path.relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('test: no test files match', filters.join(' '));
  process.exit(1);
}

const sources = new Map(
  files.map((file) => [file, fs.readFileSync(path.join(root, file), 'utf8')]),
);
for (const program of systemPrograms) {
  const needed = files.some((file) =>
    program.usedBy.some((used) => sources.get(file).includes(used)),
  );
  if (needed && !findProgram(program.command)) install(program);
}

/**
 * Test files run two at a time. Node's default is one fewer than the cores (one, on the two-core
 * CI machine), and most of the suite's wall time is integration tests waiting on child processes
 * and block intervals, so a second file at once uses the idle core. A file that loads the machine
 * on purpose (a crash loop under load, a flood) says `// test-runner: alone` in its source and runs
 * by itself after the others, so neither it nor its neighbour is starved into a timeout.
 * COFFER_TEST_CONCURRENCY overrides the two (1 runs every file by itself, to chase a timing
 * problem).
 */
const concurrency = Number(process.env.COFFER_TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  fail(
    `COFFER_TEST_CONCURRENCY must be a positive integer, not ${process.env.COFFER_TEST_CONCURRENCY}`,
  );
}
const aloneMarker = /^\/\/ test-runner: alone$/m;
const alone = files.filter((file) => aloneMarker.test(sources.get(file)));
const together = files.filter((file) => !alone.includes(file));

function run(group, filesAtOnce) {
  if (group.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${filesAtOnce}`,
      '--test-reporter=spec',
      ...group,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
  );
  return result.status ?? 1;
}

console.log(
  `test: ${files.length} files: ${together.length} ${concurrency} at a time, then ${alone.length} alone`,
);
const statuses = [run(together, concurrency), run(alone, 1)];
process.exit(statuses.find((status) => status !== 0) ?? 0);
