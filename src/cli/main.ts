#!/usr/bin/env node
import { createCli } from './app.js';
import type { CliIo } from './terminal.js';

/**
 * Exits once what was written has left. Without an explicit exit the process would linger for a
 * few hundred ms on the idle connection fetch keeps open, on every command.
 */
function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

const argv = process.argv.slice(2);
if (argv[0] === 'init' || argv[0] === 'start' || argv[0] === 'signing-history') {
  // Loaded only here: the node (Fastify, SQLite) is most of the start-up time of other commands.
  const command = argv[0];
  void import('./node-commands.js').then(({ runNodeCommand }) =>
    runNodeCommand(command, argv.slice(1)),
  );
} else if (argv[0] === 'cluster') {
  // Loads the node too, like init and start.
  void import('./cluster-commands.js').then(({ runClusterCommand }) =>
    runClusterCommand(argv.slice(1)),
  );
} else {
  const io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  void createCli().run(argv, io).then(exitWhenFlushed);
}
