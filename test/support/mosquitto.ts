// Starts a real mosquitto 2 broker for a test: TLS only on a free loopback port, client
// certificates required, the ACL of issue 20 (src/modules/iot/service/broker-config.ts writes the
// configuration, the one operators run). `npm test` installs Debian's mosquitto when it is missing
// (scripts/test.mjs); run alone, a missing binary fails with a message that says how to install it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { writeBrokerConfig } from '../../src/modules/iot/service/broker-config.js';
import { killedOnExit } from './exit-hooks.js';

/** How much of the broker's output to keep for failure messages. */
const outputTailCharsMax = 16 * 1024;
/** Starts on a new port after "address already in use", at most this many times. */
const startAttemptsMax = 5;
const readyTimeoutMs = 10_000;
const pollIntervalMs = 25;

let live: Set<Mosquitto> | undefined;

/** mosquitto on PATH or where Debian puts it (/usr/sbin is not on a normal user's PATH). */
export function findMosquitto(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const candidate = path.join(dir, 'mosquitto');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface MosquittoOptions {
  /** Where the configuration and ACL are written. */
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export class Mosquitto {
  output = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
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
        keep(Buffer.from(`spawn failed: ${String(error)}\n`));
        this.exit = { code: null, signal: null };
      },
    );
  }

  /** `mqtts://127.0.0.1:<port>`; clients connect with servername `localhost`. */
  get url(): string {
    return `mqtts://127.0.0.1:${this.port}`;
  }

  static async start(options: MosquittoOptions): Promise<Mosquitto> {
    const binary = findMosquitto();
    if (!binary) {
      throw new Error(
        'mosquitto not found on PATH or in /usr/sbin: run the tests with npm test, which ' +
          'installs it, or install it yourself (apt-get install -y mosquitto)',
      );
    }
    let last = '';
    for (let attempt = 0; attempt < startAttemptsMax; attempt++) {
      const port = await freePort();
      const configFile = writeBrokerConfig({
        ...options,
        port,
        // Root's 0600 key files: a broker that dropped to the mosquitto user could not read them.
        ...(process.getuid?.() === 0 ? { user: 'root' } : {}),
      });
      const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      const broker = new Mosquitto(child, port);
      live ??= killedOnExit<Mosquitto>();
      live.add(broker);
      const deadline = Date.now() + readyTimeoutMs;
      while (broker.running && Date.now() < deadline) {
        if (await accepts(port)) return broker;
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      }
      last = broker.output;
      await broker.stop();
      if (!/address already in use/i.test(last)) break;
    }
    throw new Error(`mosquitto did not start; its output:\n${last}`);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  killNow(): void {
    if (this.exit === undefined) this.child.kill('SIGKILL');
  }

  /** SIGTERM, then waits until it is gone. */
  async stop(): Promise<void> {
    if (this.exit === undefined) this.child.kill('SIGTERM');
    await this.exited;
    live?.delete(this);
  }
}
