/*
 * Test support for the gateway's tests (not shipped behaviour): an in-memory chain that answers
 * what the gateway reads (heights, agreements, content records) and applies `licence.usage` as
 * the chain does, keys, and signed requests.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  addressFromPublicKey,
  generateKeyPair,
  publicKeyFromAddress,
  toHex,
} from '../../../crypto/index.js';
import { countLimitOf, permissionOf, type Policy } from '../policy.js';
import type { AgreementRecord, ContentRecord } from '../schema.js';
import type {
  AgreementAtHeight,
  GatewayChain,
  SignedUsage,
  TxStatus,
  UsageOutcome,
} from './chain.js';
import { parseGatewayConfig, type GatewayConfig } from './config.js';
import {
  popHeader,
  popMessage,
  signHex,
  tokenRequestMessage,
  uploadAuthorisationMessage,
  uploadMessage,
  urlPopMessage,
  type GatewayAction,
} from './messages.js';
import { initGatewayDataDir } from './storage.js';
import { createHash } from 'node:crypto';

export interface TestKey {
  address: string;
  publicKey: string;
  secretKey: string;
}

/** A key as the SDK holds it (`SigningKey`) or with its public key: either does here. */
export interface KeyLike {
  address: string;
  secretKey: string;
  publicKey?: string;
}

const publicKeyOf = (key: KeyLike) => key.publicKey ?? toHex(publicKeyFromAddress(key.address));

export function testKey(): TestKey {
  const pair = generateKeyPair();
  return {
    address: addressFromPublicKey(pair.publicKey),
    publicKey: toHex(pair.publicKey),
    secretKey: toHex(pair.secretKey),
  };
}

/** The chain as the gateway sees it, in memory: every change is a new block. */
export class FakeChain implements GatewayChain {
  heightNow = 1;
  agreements = new Map<string, AgreementRecord>();
  contents = new Map<string, ContentRecord>();
  usageTxs: {
    sender: string;
    agreementId: string;
    uses: Record<string, number>;
    devices: string[];
  }[] = [];
  reads = 0;

  chainIdValue = 'coffer-test';
  balances = new Map<string, bigint>();

  balance(address: string, asset: string): Promise<bigint> {
    return Promise.resolve(this.balances.get(`${address}/${asset}`) ?? 0n);
  }

  chainId(): Promise<string> {
    return Promise.resolve(this.chainIdValue);
  }
  height(): Promise<number> {
    return Promise.resolve(this.heightNow);
  }
  agreement(agreementId: string): Promise<AgreementAtHeight | undefined> {
    this.reads++;
    const agreement = this.agreements.get(agreementId);
    if (!agreement) return Promise.resolve(undefined);
    const parent =
      agreement.parent === undefined ? undefined : this.agreements.get(agreement.parent);
    return Promise.resolve(structuredClone({ agreement, parent }));
  }
  content(contentId: string): Promise<ContentRecord | undefined> {
    return Promise.resolve(structuredClone(this.contents.get(contentId)));
  }
  txs = new Map<string, TxStatus>();
  private hashes = 0;

  signUsage(batches: Parameters<GatewayChain['signUsage']>[0]): Promise<SignedUsage[]> {
    return Promise.resolve(
      batches.flatMap((batch) =>
        batch.usages.map((usage) => ({
          agreementId: usage.agreementId,
          hash: createHash('sha256').update(`usage ${this.hashes++}`).digest('hex'),
          tx: {
            chainId: this.chainIdValue,
            sender: batch.key.address,
            nonce: 0,
            type: 'licence.usage',
            payload: { agreementId: usage.agreementId, uses: usage.uses, devices: usage.devices },
            signature: '',
          },
        })),
      ),
    );
  }

  /** Codes to refuse the next usage txs with (committed, failed), one each, first first. */
  refuseUsage: string[] = [];
  /** Uses past a count and fresh devices past a limit, as the chain keeps them (overuse). */
  overuse = new Map<string, { uses: Record<string, number>; devices: number }>();

  /**
   * Applies each usage as the chain does (one block each): uses count up to their `count` and
   * devices up to the limit (only for reported actions whose permission has a deviceCount); what
   * goes beyond is kept as overuse, never refused.
   */
  submitUsage(signed: SignedUsage[]): Promise<UsageOutcome[]> {
    const outcomes: UsageOutcome[] = [];
    for (const item of signed) {
      const payload = item.tx.payload as { uses: Record<string, number>; devices: string[] };
      const agreement = this.agreements.get(item.agreementId)!;
      this.heightNow++;
      const refusal = this.refuseUsage.shift();
      if (refusal !== undefined) {
        this.txs.set(item.hash, { status: 'failed', code: refusal });
        outcomes.push({ status: 'rejected', code: refusal, message: refusal });
        continue;
      }
      const over = this.overuse.get(item.agreementId) ?? { uses: {}, devices: 0 };
      const limits: number[] = [];
      for (const [action, n] of Object.entries(payload.uses)) {
        const key = action as GatewayAction;
        const before = agreement.used[key] ?? 0;
        const count = countLimitOf(agreement.policy, key);
        const counted = count === undefined ? n : Math.min(n, Math.max(0, count - before));
        agreement.used[key] = before + counted;
        if (counted < n) over.uses[key] = (over.uses[key] ?? 0) + n - counted;
        const deviceCount = (permissionOf(agreement.policy, key)?.constraint ?? []).find(
          (c) => c.leftOperand === 'deviceCount',
        );
        if (deviceCount) limits.push(deviceCount.rightOperand);
      }
      if (limits.length > 0) {
        for (const device of payload.devices) {
          if (agreement.devices.includes(device)) continue;
          if (agreement.devices.length < Math.max(...limits)) agreement.devices.push(device);
          else over.devices++;
        }
      }
      this.overuse.set(item.agreementId, over);
      this.usageTxs.push({
        sender: item.tx.sender,
        agreementId: item.agreementId,
        uses: payload.uses,
        devices: payload.devices,
      });
      this.txs.set(item.hash, { status: 'ok' });
      outcomes.push({ status: 'ok', tx: item.hash, height: this.heightNow });
    }
    return Promise.resolve(outcomes);
  }

  txStatus(hash: string): Promise<TxStatus> {
    return Promise.resolve(this.txs.get(hash) ?? { status: 'unknown' });
  }

  register(input: { contentId: string; owner: string; publicKey: string; size: number }) {
    this.contents.set(input.contentId, {
      contentId: input.contentId,
      title: 'Test',
      mediaType: 'video/webm',
      size: input.size,
      owner: input.owner,
      holder: input.owner,
      publicKey: input.publicKey,
      gateway: addressFromPublicKey(Buffer.from(input.publicKey, 'hex')),
      titleLength: 0,
      sharesTotal: 0,
      registeredAt: 0,
      height: this.heightNow,
      tx: '00'.repeat(32),
    });
    this.heightNow++;
  }

  accept(input: {
    contentId: string;
    licensee: string;
    policy: Policy;
    acceptedAt: number;
    expiresAt?: number;
    parent?: string;
  }): string {
    const agreementId = createHash('sha256')
      .update(`${input.contentId}${input.licensee}${this.agreements.size}${Math.random()}`)
      .digest('hex');
    this.agreements.set(agreementId, {
      agreementId,
      contentId: input.contentId,
      offerId: 'offer',
      offerer: input.licensee,
      licensee: input.licensee,
      ...(input.parent === undefined ? {} : { parent: input.parent }),
      policy: input.policy,
      acceptedAt: input.acceptedAt,
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
      used: {},
      devices: [],
      status: 'active',
      height: this.heightNow,
      tx: agreementId,
    });
    this.heightNow++;
    return agreementId;
  }

  revoke(agreementId: string) {
    const agreement = this.agreements.get(agreementId)!;
    agreement.status = 'revoked';
    agreement.revokedAt = 0;
    this.heightNow++;
  }
}

export function tempDataDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `coffer-gateway-${name}-`));
  initGatewayDataDir(dir);
  return dir;
}

export function testConfig(
  dataDir: string,
  extra: Record<string, unknown> = {},
): Readonly<GatewayConfig> {
  return parseGatewayConfig({
    node: { url: 'http://127.0.0.1:1' },
    dataDir,
    http: { host: '127.0.0.1', port: 0 },
    ...extra,
  });
}

export function uploadHeaders(
  owner: KeyLike,
  body: Uint8Array,
  time: number,
  mediaType = 'video/webm',
) {
  const bodySha256 = createHash('sha256').update(body).digest('hex');
  return {
    'content-type': mediaType,
    'x-coffer-owner': owner.address,
    'x-coffer-time': String(time),
    'x-coffer-signature': signHex(
      uploadMessage({ bodySha256, owner: owner.address, time }),
      owner.secretKey,
    ),
    'x-coffer-upload-authorisation': signHex(
      uploadAuthorisationMessage({ owner: owner.address, time, length: body.length }),
      owner.secretKey,
    ),
  };
}

export function tokenRequest(
  licensee: KeyLike,
  agreementId: string,
  time: number,
  action: GatewayAction = 'play',
  device?: string,
) {
  const fields = {
    agreementId,
    action,
    ...(device === undefined ? {} : { device }),
    time,
    publicKey: publicKeyOf(licensee),
  };
  return { ...fields, signature: signHex(tokenRequestMessage(fields), licensee.secretKey) };
}

export function popFor(
  key: KeyLike,
  input: { path: string; range?: string; time: number; jti: string; method?: string },
): string {
  const message = popMessage({ method: input.method ?? 'GET', ...input });
  return popHeader(publicKeyOf(key), input.time, signHex(message, key.secretKey));
}

export function urlPop(key: KeyLike, path: string, jti: string): string {
  return signHex(urlPopMessage(path, jti), key.secretKey);
}

/** A request over a real socket from `localAddress` (127.0.0.x): the gateway sees that IP. */
export function requestFrom(
  url: string,
  localAddress: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, localAddress },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
