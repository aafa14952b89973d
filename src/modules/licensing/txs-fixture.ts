import {
  BlockPerTxWorld,
  expectOk,
  testKey as key,
  type TestKey,
} from '../../../test/support/tx-runner.js';
import { ledgerModule, type TxDefinition } from '../../chain/index.js';
import { sha256Hex, sign, toHex, utf8 } from '../../crypto/index.js';
import type { Policy } from './policy.js';
import { registrationMessage } from './schema.js';
import { licensingTxs } from './txs.js';

/*
 * The licensing module's handlers in process: a chain in miniature where each successful tx is a
 * block (height + 1, time + 1 s), with a USD asset and funded licensees. The world's clock starts
 * at a fixed time: nothing here reads the real clock.
 */

export const chainId = 'coffer-licensing-unit';

export { expectOk, key, type TestKey };

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

export type { TxEvent } from '../../../test/support/tx-runner.js';

const txs: Record<string, TxDefinition<never>> = { ...ledgerModule.txs, ...licensingTxs };

export class LicensingWorld extends BlockPerTxWorld {
  constructor() {
    super({ chainId, txs, startTime, prefix: 'licensing/', asset });
  }

  /** Accepts an offer and answers the agreement id (fails the test on a rejection). */
  accept(sender: TestKey, offerId: string, extra: Record<string, unknown> = {}): string {
    const agreementId = this.nextTxHash();
    expectOk(this.run(sender, 'licence.accept', { contentId, offerId, ...extra }), 'accept');
    return agreementId;
  }
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
