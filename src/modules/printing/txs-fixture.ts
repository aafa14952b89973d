import {
  BlockPerTxWorld,
  expectOk,
  testKey as key,
  type TestKey,
} from '../../../test/support/tx-runner.js';
import { ledgerModule, type TxDefinition } from '../../chain/index.js';
import { sha256Hex, sign, toHex, utf8 } from '../../crypto/index.js';
import {
  designIdOf,
  designUploadMessage,
  deviceKeyHashOf,
  hardwareIdOf,
  printerDeviceMessage,
  printerRegistrationMessage,
  profileHashOf,
  type DesignBox,
  type PrinterProfile,
} from './schema.js';
import { readDesign } from './state.js';
import { printingTxs } from './txs.js';

/*
 * The printing module's handlers in process: a chain in miniature where each successful tx is a
 * block (height + 1, time + 1 s), with a USD asset and funded owners. The world's clock starts at
 * a fixed time: nothing here reads the real clock.
 */

export const chainId = 'coffer-printing-unit';

export { expectOk, key, type TestKey };

export const issuer = key(80);
/** The hardware-id authority. */
export const authority = key(81);
/** The print server (the platform's account). */
export const server = key(82);
export const otherServer = key(83);
export const designer = key(84);
export const owner = key(85);
export const owner2 = key(86);
export const outsider = key(87);
/** SBC device keys: their raw public keys make the hardware ids. */
export const device = key(88);
export const device2 = key(89);
export const asset = 'USD';
export const funds = 1_000_000n;
export const startTime = 1_760_000_000_000;

export const profile: PrinterProfile = {
  firmware: 'marlin',
  bed: { x: 220_000, y: 220_000, z: 250_000 },
  nozzleUm: 400,
  filament: 'pla',
  hotendC: 205,
  bedC: 60,
  flowPct: 100,
  startGcode: 'G28\nG92 E0',
  endGcode: 'M104 S0\nM140 S0\nM84',
};

/** The hardware id `by` issues for `deviceKey` (from the key's hash, as the chain checks it). */
export function hardwareIdFor(deviceKey: TestKey, by: TestKey = authority): string {
  return hardwareIdOf(by.address, deviceKeyHashOf(toHex(deviceKey.publicKey)));
}

export const hardwareId = hardwareIdFor(device);
export const hardwareId2 = hardwareIdFor(device2);

export function hwidPayload(deviceKey: TestKey = device, by: TestKey = authority) {
  const hash = deviceKeyHashOf(toHex(deviceKey.publicKey));
  return { hardwareId: hardwareIdOf(by.address, hash), deviceKeyHash: hash };
}

/** The SBC's consent (`deviceProof`): `signer` signs printerDeviceMessage. */
export function deviceProof(
  id: string,
  signer: TestKey = device,
  to: TestKey = server,
  who: TestKey = owner,
  p: PrinterProfile = profile,
): string {
  return toHex(
    sign(
      printerDeviceMessage(chainId, id, to.address, who.address, profileHashOf(p)),
      signer.secretKey,
    ),
  );
}

export function printerIdOf(n: number): string {
  return `pr_${n.toString(16).padStart(32, '0')}`;
}

export function ownerProof(
  id: string,
  to: TestKey = server,
  signer: TestKey = owner,
  p: PrinterProfile = profile,
): string {
  return toHex(
    sign(printerRegistrationMessage(chainId, id, to.address, profileHashOf(p)), signer.secretKey),
  );
}

/**
 * A `printer.register` payload for `who` (the owner), signed by `signer`, for server `to`, with
 * the SBC `device`'s key and consent (signed by `deviceSigner`, by default the device itself).
 */
export function registration(
  printerId: string,
  options: {
    hardwareId?: string;
    who?: TestKey;
    to?: TestKey;
    signer?: TestKey;
    p?: PrinterProfile;
    device?: TestKey;
    deviceSigner?: TestKey;
  } = {},
): Record<string, unknown> {
  const id = options.hardwareId ?? hardwareId;
  const who = options.who ?? owner;
  const p = options.p ?? profile;
  const sbc = options.device ?? (id === hardwareId2 ? device2 : device);
  return {
    printerId,
    hardwareId: id,
    owner: who.address,
    clientId: `client-${printerId.slice(-4)}`,
    certFingerprint: sha256Hex(utf8(`certificate of ${printerId}`)),
    profile: p,
    ownerProof: ownerProof(id, options.to ?? server, options.signer ?? who, p),
    deviceKey: toHex(sbc.publicKey),
    deviceProof: deviceProof(id, options.deviceSigner ?? sbc, options.to ?? server, who, p),
  };
}

export const contentHash = sha256Hex(utf8('G1 X10 Y10\nG1 X20 Y20\n'));
export const bbox: DesignBox = { x: 100_000, y: 100_000, z: 50_000 };

/** A `design.list` payload by `who` through `via`, its proof by `signer` (the server's key). */
export function listing(
  options: {
    who?: TestKey;
    via?: TestKey;
    signer?: TestKey;
    hash?: string;
    box?: DesignBox;
    amount?: string;
    printsMax?: number;
    platformShareBp?: number;
  } = {},
): Record<string, unknown> {
  const who = options.who ?? designer;
  const via = options.via ?? server;
  const hash = options.hash ?? contentHash;
  const box = options.box ?? bbox;
  const platformShareBp = options.platformShareBp ?? 1500;
  const designId = designIdOf(via.address, who.address, hash);
  const lines = 2;
  const sizeBytes = 22;
  const proof = sign(
    designUploadMessage(
      chainId,
      designId,
      who.address,
      hash,
      lines,
      sizeBytes,
      box,
      platformShareBp,
    ),
    (options.signer ?? via).secretKey,
  );
  return {
    designId,
    server: via.address,
    title: 'A calibration cube',
    contentHash: hash,
    sizeBytes,
    lines,
    bbox: box,
    price: { asset, amount: options.amount ?? '1000' },
    printsMax: options.printsMax ?? 10,
    platformShareBp,
    licence: { commercial: false, remix: true },
    serverProof: toHex(proof),
  };
}

export const designId = designIdOf(server.address, designer.address, contentHash);
export const printerId = printerIdOf(1);
export const watermark = sha256Hex(utf8('watermark id and salt'));

export type { TxEvent } from '../../../test/support/tx-runner.js';

const txs: Record<string, TxDefinition<never>> = { ...ledgerModule.txs, ...printingTxs };

export class PrintingWorld extends BlockPerTxWorld {
  constructor() {
    super({ chainId, txs, startTime, prefix: 'printing/', asset });
  }

  /**
   * Buys a print at the design's current price and answers the token id (fails the test on a
   * rejection).
   */
  buy(sender: TestKey = owner, design = designId, printer = printerId): string {
    const tokenId = this.nextTxHash();
    const price = this.priceOf(design);
    expectOk(this.run(sender, 'print.buy', { designId: design, printerId: printer, price }), 'buy');
    return tokenId;
  }

  /** A design's current price (or a placeholder when it is not listed). */
  priceOf(design = designId): { asset: string; amount: string } {
    const record = readDesign(this.state, design);
    return record ? record.price : { asset, amount: '1' };
  }
}

/**
 * A world with USD and funded owners, `device`'s hardware id issued by `authority`, the owner's
 * printer `printerId` registered by `server`, and the designer's design listed through it.
 */
export function printingWorld(): PrintingWorld {
  const w = new PrintingWorld();
  const ledger = w.ledger();
  if (ledger.createAsset(issuer.address, { symbol: asset, decimals: 2 })) throw new Error('asset');
  if (ledger.createAsset(issuer.address, { symbol: 'EUR', decimals: 2 })) throw new Error('asset');
  for (const k of [owner, owner2, outsider]) {
    if (ledger.mint(issuer.address, asset, k.address, funds)) throw new Error('mint');
  }
  w.state.release();
  expectOk(w.run(authority, 'printing.hwid', hwidPayload()), 'hwid');
  expectOk(w.run(server, 'printer.register', registration(printerId)), 'register');
  expectOk(w.run(designer, 'design.list', listing()), 'list');
  return w;
}
