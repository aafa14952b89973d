// The 3D-printing e2e test's world (issue 23): a node in this process (real HTTP on loopback), the
// hardware-id authority and the print server in this process too (real HTTP and HTTPS listeners:
// the print server's mTLS port is what the agent's certificates are checked on), and the agent as
// the built CLI runs it, through tsx (`coffer print-agent ...` in a child process, so its memory,
// open files and disk are its own). The virtual printer (socat and a Marlin emulator) is started
// by the test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { sha256Hex } from '../../src/crypto/index.js';
import { initAuthority, loadAuthorityConfig } from '../../src/modules/printing/authority/config.js';
import {
  startAuthority,
  type RunningAuthority,
} from '../../src/modules/printing/authority/server.js';
import { printingTxBuilders, type DesignBox } from '../../src/modules/printing/client.js';
import {
  initPrintServerDataDir,
  loadPrintServerConfig,
  parsePrintServerConfig,
} from '../../src/modules/printing/server/config.js';
import {
  designUploadAuthorisationMessage,
  signMessageHex,
} from '../../src/modules/printing/server/messages.js';
import {
  startPrintServer,
  type RunningPrintServer,
} from '../../src/modules/printing/server/server.js';
import { txs, type SigningKey } from '../../src/sdk/index.js';
import { startTestNode, type TestNode } from './test-node.js';

const root = path.resolve(import.meta.dirname, '../..');
const cliSource = path.join(root, 'src/cli/main.ts');
/** tsx's loader by its file URL: the agent runs in a directory of its own, without node_modules. */
const tsxLoader = import.meta.resolve('tsx');

export interface PrintingWorld {
  node: TestNode;
  authority: RunningAuthority;
  printServer: RunningPrintServer;
  /** The print server's CA certificate file: what the SBC's operator is handed. */
  caFile: string;
  serverDir: string;
  /** A directory for the test's own files (agents' data dirs, keys). */
  workDir: string;
  close(): Promise<void>;
}

export async function startPrintingWorld(
  options: {
    platformShareBp?: number;
    revocationPollMs?: number;
    /** The servers' log lines (default: none). */
    log?: (level: string, event: string, fields?: Record<string, unknown>) => void;
  } = {},
): Promise<PrintingWorld> {
  const log = options.log ?? (() => undefined);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-printing-e2e-'));
  const node = await startTestNode('printing-e2e');
  const closers: (() => Promise<void>)[] = [() => node.close()];
  try {
    const authorityDir = path.join(workDir, 'authority');
    fs.mkdirSync(authorityDir);
    const initialised = initAuthority(authorityDir, { nodeUrl: node.url, port: 0 });
    const authority = await startAuthority(loadAuthorityConfig(initialised.configFile), { log });
    closers.unshift(() => authority.close());

    const serverDir = path.join(workDir, 'print-server');
    const made = await initPrintServerDataDir(serverDir, {
      nodeUrl: node.url,
      hostNames: ['127.0.0.1'],
      port: 0,
      printsPort: 0,
      trustedAuthorities: [authority.authority],
      platformShareBp: options.platformShareBp ?? 1_000,
    });
    const written = loadPrintServerConfig(made.configFile);
    const config = parsePrintServerConfig({
      ...written,
      limits: { ...written.limits, revocationPollMs: options.revocationPollMs ?? 50 },
    });
    const printServer = await startPrintServer(config, { log });
    closers.unshift(() => printServer.close());
    return {
      node,
      authority,
      printServer,
      caFile: made.caFile,
      serverDir,
      workDir,
      async close() {
        for (const close of closers) await close();
        fs.rmSync(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    fs.rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** Sends a tx and fails the test unless it is committed ok; answers its hash. */
export async function sendOk(
  world: PrintingWorld,
  key: SigningKey,
  tx: { type: string; payload: Record<string, unknown> },
): Promise<string> {
  const result = await world.node.client.send(key, tx);
  assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
  return result.hash;
}

export async function fund(world: PrintingWorld, to: string, amount: string): Promise<void> {
  await sendOk(world, world.node.dev, txs.transfer({ to, asset: 'USD', amount }));
}

export interface UploadAnswer {
  designId: string;
  contentHash: string;
  sizeBytes: number;
  lines: number;
  bbox: DesignBox;
  platformShareBp: number;
  serverProof: string;
  server: string;
}

/** Uploads G-code to the print server as `designer` (its signed authorisation in the headers). */
export async function uploadDesign(
  world: PrintingWorld,
  designer: SigningKey,
  gcode: string,
): Promise<UploadAnswer> {
  const body = Buffer.from(gcode);
  const contentHash = sha256Hex(body);
  const timestamp = Date.now();
  const authorisation = signMessageHex(
    designUploadAuthorisationMessage({
      server: world.printServer.address,
      designer: designer.address,
      contentHash,
      sizeBytes: body.length,
      timestamp,
    }),
    designer.secretKey,
  );
  const response = await httpsPost(world, `${world.printServer.url}/v1/printing/designs`, body, {
    'content-type': 'text/x-gcode',
    'x-coffer-designer': designer.address,
    'x-coffer-time': String(timestamp),
    'x-coffer-content-hash': contentHash,
    'x-coffer-upload-authorisation': authorisation,
  });
  assert.ok(response.status === 200 || response.status === 201, response.text);
  return JSON.parse(response.text) as UploadAnswer;
}

/** Lists an uploaded design on chain as `designer`; answers its id. */
export async function listDesign(
  world: PrintingWorld,
  designer: SigningKey,
  upload: UploadAnswer,
  listing: { title: string; price: string; printsMax: number },
): Promise<string> {
  await sendOk(
    world,
    designer,
    printingTxBuilders.listDesign({
      designId: upload.designId,
      server: upload.server,
      title: listing.title,
      contentHash: upload.contentHash,
      sizeBytes: upload.sizeBytes,
      lines: upload.lines,
      bbox: upload.bbox,
      price: { asset: 'USD', amount: listing.price },
      printsMax: listing.printsMax,
      platformShareBp: upload.platformShareBp,
      licence: { commercial: false, remix: false },
      serverProof: upload.serverProof,
    }),
  );
  return upload.designId;
}

/** A POST over TLS trusting only the print server's CA. */
async function httpsPost(
  world: PrintingWorld,
  url: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const https = await import('node:https');
  const ca = fs.readFileSync(world.caFile, 'utf8');
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      { method: 'POST', ca, headers: { ...headers, 'content-length': String(body.length) } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export interface AgentRun {
  child: ChildProcess;
  /** Resolves when the agent exits, with its output. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Runs `coffer print-agent ARGS` from the sources (tsx) in a child process, in `cwd`, with
 * COFFER_HOME under the work dir; `nodeArgs` go to node (a heap-snapshot signal).
 */
export function runAgent(
  world: PrintingWorld,
  args: string[],
  options: { cwd: string; nodeArgs?: string[]; timeoutMs?: number },
): AgentRun {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        !entry[0].startsWith('COFFER_') &&
        entry[0] !== 'NODE_OPTIONS' &&
        entry[0] !== 'NODE_TEST_CONTEXT',
    ),
  );
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', tsxLoader, cliSource, 'print-agent', ...args],
    {
      cwd: options.cwd,
      env: { ...env, COFFER_HOME: path.join(world.workDir, 'coffer-home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`print-agent ${args.join(' ')} did not finish in ${timeoutMs} ms: ${stderr}`),
        );
      }, timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    },
  );
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  void done.finally(() => process.off('exit', kill)).catch(() => undefined);
  return { child, done };
}
