import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { once } from 'node:events';

/** How much of the child's stdout and stderr to keep for failure messages. */
const outputTailCharsMax = 8 * 1024;

export interface NodeStartOptions {
  /** Path of the built CLI, dist/src/cli/main.js. */
  cliPath: string;
  dataDir: string;
  blockIntervalMs: number;
  logLevel: string;
  /** The child's environment; pass one without COFFER_* so flags alone configure the node. */
  env: NodeJS.ProcessEnv;
  startTimeoutMs: number;
  /** More command-line arguments after the ones above (`--cluster`, `--validator`, ...). */
  args?: readonly string[];
  /** Sees every chunk of the child's stdout and stderr (the tail kept is bounded; this is not). */
  onOutput?: (chunk: Buffer) => void;
}

/** Fails with a message that says how to build when the CLI has not been built. */
export function assertBuilt(cliPath: string): void {
  if (!fs.existsSync(cliPath)) {
    throw new Error(
      `${cliPath} does not exist: build the node first (npx tsc -p tsconfig.build.json), or run npm test, which builds`,
    );
  }
}

/**
 * One run of the built node as a separate process, as a user starts it. It listens on port 0 and
 * the URL is read from its "listening on" line, so no port can be taken between choosing and
 * binding it.
 */
export class NodeProcess {
  private output = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly startTimeoutMs: number,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-outputTailCharsMax);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = once(child, 'exit').then(
      ([code, signal]) => {
        this.exit = { code: code as number | null, signal: signal as NodeJS.Signals | null };
      },
      (error: unknown) => {
        // 'error' before 'exit': the process could not be spawned (or signalled).
        keep(Buffer.from(`spawn failed: ${String(error)}\n`));
        this.exit = { code: null, signal: null };
      },
    );
  }

  /** The child's process id (the benches read its CPU time from /proc). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Spawns the node; `listening()` then waits for it. Split in two so an owner can hold (and kill)
   * the process from the moment it exists, not only once it listens.
   */
  static spawn(options: NodeStartOptions): NodeProcess {
    const child = spawn(
      process.execPath,
      [
        options.cliPath,
        'start',
        '--data-dir',
        options.dataDir,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--log-level',
        options.logLevel,
        '--block-interval-ms',
        String(options.blockIntervalMs),
        ...(options.args ?? []),
      ],
      { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (options.onOutput) {
      child.stdout.on('data', options.onOutput);
      child.stderr.on('data', options.onOutput);
    }
    return new NodeProcess(child, options.startTimeoutMs);
  }

  /** Resolves once the node listens, with its URL and the height it resumed at. */
  async listening(): Promise<{ url: string; height: number }> {
    const { child } = this;
    const pattern = /at height (\d+) listening on (http:\/\/\S+)/;
    const found = await new Promise<{ url: string; height: number }>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the node did not listen within ${this.startTimeoutMs} ms`));
      }, this.startTimeoutMs);
      const onData = (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const match = pattern.exec(text);
        if (match) {
          done();
          resolve({ height: Number(match[1]), url: match[2]! });
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        done();
        reject(new Error(`the node exited before listening (code ${code}, signal ${signal})`));
      };
      const done = () => {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
      };
      child.stdout!.on('data', onData);
      child.on('exit', onExit);
      if (this.exit) onExit(this.exit.code, this.exit.signal);
    }).catch(async (error: unknown) => {
      await this.kill();
      throw new Error(`${(error as Error).message}; its output:\n${this.outputTail()}`);
    });
    return found;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** How it ended, once it has. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exit;
  }

  /** Sends SIGKILL without waiting (for a process 'exit' handler, where nothing can be awaited). */
  killNow(): void {
    if (this.exit === undefined) this.child.kill('SIGKILL');
  }

  /** SIGKILLs the node (no chance to flush or close anything) and resolves once it is gone. */
  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
  }

  /** Sends `signal` (SIGSTOP, SIGCONT) to a running node; answers whether it was sent. */
  signal(signal: NodeJS.Signals): boolean {
    return this.exit === undefined && this.child.kill(signal);
  }

  /** The last few KiB the node printed, for failure messages. */
  outputTail(): string {
    return this.output;
  }
}
