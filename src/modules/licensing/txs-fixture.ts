import { runTx } from '../../../test/support/tx-runner.js';
import { ledgerModule, type TxDefinition } from '../../chain/index.js';
import {
  addressFromPublicKey,
  keyPairFromSecret,
  sha256Hex,
  sign,
  toHex,
  utf8,
} from '../../crypto/index.js';
import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import type { Policy } from './policy.js';
import { registrationMessage } from './schema.js';
import { licensingTxs } from './txs.js';

/*
 * The licensing module's handlers in process: a chain in miniature where each successful tx is a
 * block (height + 1, time + 1 s), with a USD asset and funded licensees. The world's clock starts
 * at a fixed time: nothing here reads the real clock.
 */

export const chainId = 'coffer-licensing-unit';

export interface TestKey {
  address: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function key(seed: number): TestKey {
  const pair = keyPairFromSecret(new Uint8Array(32).fill(seed));
  return {
    secretKey: pair.secretKey,
    publicKey: pair.publicKey,
    address: addressFromPublicKey(pair.publicKey),
  };
}

export const issuer = key(70);
/** Registers the content: the creator. */
export const creator = key(71);
export const publisher = key(72);
export const distributor = key(73);
export const buyer = key(74);
export const buyer2 = key(75);
export const outsider = key(76);
/** The content's key: the gateway holds it, its address reports usage. */
export const contentKey = key(77);
export const asset = 'USD';
export const funds = 1_000_000n;
export const startTime = 1_750_000_000_000;

export const contentId = sha256Hex(utf8('a short film'));

/** The content key's registration proof for `owner` (what the gateway answers an upload with). */
export function registrationProof(id: string, owner: string, signer: TestKey = contentKey): string {
  return toHex(sign(registrationMessage(chainId, id, owner), signer.secretKey));
}

/** A `content.register` payload for `owner`, its proof by `signer` (the content key). */
export function registration(
  owner: TestKey,
  id = contentId,
  signer: TestKey = contentKey,
): Record<string, unknown> {
  return {
    contentId: id,
    title: 'A short film',
    mediaType: 'video/webm',
    size: 1234,
    publicKey: toHex(signer.publicKey),
    proof: registrationProof(id, owner.address, signer),
  };
}

export const registerPayload = registration(creator);

/** Play 3 times, in FR or DE, on 2 devices, for an hour, for 1000 USD minor units. */
export const paidPolicy: Policy = {
  permission: [
    {
      action: 'play',
      constraint: [
        { leftOperand: 'count', operator: 'lteq', rightOperand: 3 },
        { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR', 'DE'] },
        { leftOperand: 'deviceCount', operator: 'lteq', rightOperand: 2 },
        { leftOperand: 'elapsedTime', operator: 'lteq', rightOperand: 3_600_000 },
      ],
    },
  ],
  prohibition: [{ action: 'download' }],
  duty: [{ action: 'compensate', payAmount: '1000', unit: asset }],
};

export interface TxEvent {
  type: string;
  data: Record<string, unknown>;
}

const txs: Record<string, TxDefinition<never>> = { ...ledgerModule.txs, ...licensingTxs };

export class LicensingWorld {
  readonly state = new StateView({ get: () => undefined, range: () => [] });
  time = startTime;
  height = 1;
  blockMs = 1000;
  private count = 0;
  events: TxEvent[] = [];
  field: string | undefined;

  ledger(): Ledger {
    return new Ledger(this.state);
  }

  /** Runs one tx: 'ok', or the rejection code (the state as it was, no events). */
  run(sender: TestKey | string, type: string, payload: Record<string, unknown>): string {
    this.count += 1;
    const result = runTx(
      txs,
      {
        chainId,
        height: this.height,
        time: this.time,
        txHash: this.count.toString(16).padStart(64, '0'),
        sender: typeof sender === 'string' ? sender : sender.address,
        state: this.state,
      },
      type,
      payload,
    );
    this.events = result.events;
    this.field = result.field;
    if (result.status !== 'ok') return result.status;
    this.height += 1;
    this.time += this.blockMs;
    return 'ok';
  }

  /** The hash the next tx will have (an agreement's id is its accept tx's hash). */
  nextTxHash(): string {
    return (this.count + 1).toString(16).padStart(64, '0');
  }

  advance(ms: number): void {
    this.height += 1;
    this.time += ms;
  }

  contents(): [string, string][] {
    return [
      ...this.state.range('licensing/', 1_000_000),
      ...this.state.range('ledger/', 1_000_000),
    ];
  }

  balance(address: string, symbol = asset): bigint {
    return this.ledger().balance(address, symbol);
  }

  /** Accepts an offer and answers the agreement id (fails the test on a rejection). */
  accept(sender: TestKey, offerId: string, extra: Record<string, unknown> = {}): string {
    const agreementId = this.nextTxHash();
    expectOk(this.run(sender, 'licence.accept', { contentId, offerId, ...extra }), 'accept');
    return agreementId;
  }
}

export function expectOk(result: string, what: string): void {
  if (result !== 'ok') throw new Error(`${what}: ${result}`);
}

/** A world with USD, funded buyers, and the content registered by the creator. */
export function licensingWorld(): LicensingWorld {
  const w = new LicensingWorld();
  const ledger = w.ledger();
  if (ledger.createAsset(issuer.address, { symbol: asset, decimals: 2 })) throw new Error('asset');
  if (ledger.createAsset(issuer.address, { symbol: 'EUR', decimals: 2 })) throw new Error('asset');
  for (const k of [buyer, buyer2, publisher, distributor]) {
    if (ledger.mint(issuer.address, asset, k.address, funds)) throw new Error('mint');
  }
  w.state.release();
  expectOk(w.run(creator, 'content.register', registerPayload), 'register');
  return w;
}
