// The SDK runs in browsers (issue 15, item 3): bundled by esbuild for `platform: 'browser'` it
// holds no `node:` import (package.json's "browser" field swaps node:crypto for the portable
// backend, src/crypto/backend.ts), and in headless Chromium it imports keys, signs, hashes and
// verifies exactly as Node does and as docs/test-vectors.json says.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';

import {
  canonicalBytes,
  fromHex,
  inclusionProof,
  merkleRoot,
  sha256,
  toHex,
  utf8,
} from '../src/crypto/index.js';
import {
  headerHash,
  type BlockHeader,
  type ChainEvent,
  type SignedTx,
  type UnsignedTx,
} from '../src/sdk/index.js';
import { TestBlockSigner } from './support/block-signer.js';
import { launchChromium } from './support/chromium.js';
import {
  runBrowserCheck,
  type BrowserCheckInput,
  type BrowserCheckResult,
} from './support/sdk-browser-check.js';

const root = path.resolve(import.meta.dirname, '..');
/** A page that does not answer in this long is stuck (the check itself takes well under 1 s). */
const pageTimeoutMs = 30_000;

interface Vectors {
  keys: { secretKey: string; publicKey: string; message: string; signature: string }[];
  txs: { secretKey: string; body: UnsignedTx; hash: string; signature: string; signed: SignedTx }[];
}

const vectors = JSON.parse(
  fs.readFileSync(path.join(root, 'docs/test-vectors.json'), 'utf8'),
) as Vectors;

/**
 * Bundles `entry` for the browser as the web console would, and fails when the bundle would
 * need Node: esbuild itself refuses a `node:` import it cannot resolve for the browser, and the
 * metafile and the text are checked too, in case a plugin or an `external` lets one through.
 */
async function bundleForBrowser(entry: string): Promise<{ code: string; inputs: string[] }> {
  const result = await esbuild.build({
    entryPoints: [path.join(root, entry)],
    absWorkingDir: root,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const nodeInputs = inputs.filter((input) => input.startsWith('node:'));
  assert.deepEqual(nodeInputs, [], `${entry}: the browser bundle holds node: modules`);
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    assert.deepEqual(meta.imports, [], `${entry}: ${output} imports modules it does not bundle`);
  }
  const code = result.outputFiles[0]!.text;
  assert.doesNotMatch(code, /["']node:[a-z_/]+["']/, `${entry}: the bundle names a node: module`);
  return { code, inputs };
}

function hashOf(text: string): Uint8Array {
  return sha256(utf8(text));
}

/** A block of the two vector txs, signed by a test producer, and the proof of the second tx. */
function inclusionInput(): Pick<BrowserCheckInput, 'inclusion' | 'trust'> {
  const chainId = vectors.txs[0]!.body.chainId;
  const signer = new TestBlockSigner(hashOf('coffer sdk-browser test/producer'), chainId, 16);
  const signed = vectors.txs.slice(0, 2).map((vector) => vector.signed);
  const hashes = vectors.txs.slice(0, 2).map((vector) => fromHex(vector.hash));
  const receipts = vectors.txs
    .slice(0, 2)
    .map((vector) => ({ tx: vector.hash, status: 'ok', events: [] as ChainEvent[] }));
  const receiptLeaves = receipts.map((receipt) => sha256(canonicalBytes(receipt)));
  const height = 5;
  const header: BlockHeader = {
    chainId,
    height,
    prevHash: toHex(hashOf('coffer sdk-browser test/previous block')),
    time: 1_767_225_600_000,
    txCount: signed.length,
    txRoot: toHex(merkleRoot(hashes)),
    receiptRoot: toHex(merkleRoot(receiptLeaves)),
    stateRoot: toHex(hashOf('coffer sdk-browser test/state')),
    producer: signer.producer,
  };
  const hash = headerHash(header);
  const index = 1;
  const proof = (leaves: Uint8Array[]) => ({
    leafIndex: index,
    treeSize: leaves.length,
    path: inclusionProof(leaves, index).map(toHex),
  });
  return {
    inclusion: {
      hash: vectors.txs[index]!.hash,
      height,
      index,
      tx: signed[index]!,
      block: { hash, header, signature: signer.sign(header, hash) },
      proof: proof(hashes),
      receipt: receipts[index]!,
      receiptProof: proof(receiptLeaves),
    },
    trust: { producers: { [signer.producer]: [signer.range(height)] } },
  };
}

function checkInput(): BrowserCheckInput {
  return {
    keys: vectors.keys.map(({ secretKey, message }) => ({ secretKey, message })),
    txs: vectors.txs.map(({ secretKey, body }) => ({ secretKey, body })),
    ...inclusionInput(),
  };
}

/** Serves the page and the bundle on 127.0.0.1; nothing else. */
async function servePage(bundle: string): Promise<{ server: http.Server; url: string }> {
  const page =
    '<!doctype html><meta charset="utf-8"><title>coffer sdk</title>' +
    '<script type="module" src="/check.js"></script>';
  const server = http.createServer((request, response) => {
    if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else if (request.url === '/check.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

describe('the SDK in a browser', () => {
  let server: http.Server | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let url = '';
  let pageCode = '';
  const pageErrors: string[] = [];

  before(async () => {
    ({ code: pageCode } = await bundleForBrowser('test/support/sdk-browser-page.ts'));
    ({ server, url } = await servePage(pageCode));
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(pageTimeoutMs);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    await page.waitForFunction('typeof globalThis.cofferBrowserCheck === "function"');
  });

  after(async () => {
    await browser?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
    }
  });

  it('bundles src/sdk/index.ts for the browser with no node: import and the portable backend', async () => {
    const { inputs } = await bundleForBrowser('src/sdk/index.ts');
    assert.ok(inputs.includes('src/crypto/backend-portable.ts'), 'the portable backend is in');
    assert.ok(!inputs.includes('src/crypto/backend-node.ts'), 'the node backend is out');
    assert.ok(!inputs.includes('src/crypto/verify-pool.ts'), 'the worker pool is out');
  });

  it('refuses to bundle for the browser what needs node: (the check can fail)', async () => {
    await assert.rejects(bundleForBrowser('src/crypto/verify-pool.ts'), /node:/);
    await assert.rejects(bundleForBrowser('src/crypto/backend-node.ts'), /node:crypto/);
  });

  it('signs, hashes and verifies in Chromium exactly as in Node and as the vectors say', async () => {
    const input = checkInput();
    const inNode = runBrowserCheck(input);
    const answer = await page!.evaluate<{
      result: BrowserCheckResult;
      globals: Record<string, string>;
    }>(`globalThis.cofferBrowserCheck(${JSON.stringify(input)})`);
    assert.deepEqual(pageErrors, []);
    // Really a browser, really the portable backend; Node ran node:crypto.
    assert.deepEqual(answer.globals, { Buffer: 'undefined', process: 'undefined' });
    assert.equal(answer.result.backend, 'portable');
    assert.equal(inNode.backend, 'node');

    const inBrowser = answer.result;
    assert.deepEqual({ ...inBrowser, backend: 'node' }, inNode);

    vectors.keys.forEach((vector, index) => {
      assert.deepEqual(inBrowser.keys[index], {
        publicKey: vector.publicKey,
        signature: vector.signature,
        verifies: true,
        flippedVerifies: false,
      });
    });
    vectors.txs.forEach((vector, index) => {
      assert.deepEqual(inBrowser.txs[index], {
        address: vector.body.sender,
        hash: vector.hash,
        signature: vector.signature,
        verifies: true,
      });
    });
    assert.deepEqual(inBrowser.inclusion, { ok: true, checks: [] });
    assert.deepEqual(inBrowser.forgedHeader, { ok: false, checks: ['signature'] });
    assert.deepEqual(inBrowser.forgedTx, { ok: false, checks: ['tx_signature'] });
  });
});
