/*
 * The user's side of the HashTimeLock contract, shared by the command line and the engine's EVM
 * adapter (evm-ledger.ts): lock tokens, release a lock with its preimage, refund an expired lock,
 * read a lock, and find the transactions that locked, released or refunded one.
 *
 *   const htlc = await connectHtlc({ rpcUrl, htlc: '0x…', privateKey: '0x…' });
 *   await lockFunds(htlc, { token, id, recipient, amount: 5_000_000n, condition, timelock });
 *   await releaseLock(htlc, { id, preimage });   // anyone may release, with the preimage
 *   await readLock(htlc, id);                    // { state: 'withdrawn', preimage, … }
 *
 * Every function also takes the connection options in place of a connection
 * (`lockFunds({ rpcUrl, htlc, privateKey }, {...})`), connecting for that one call.
 *
 * Conventions: addresses are ordinary 0x Ethereum addresses; amounts are bigint token minor
 * units; lock ids are 0x-prefixed bytes32; `condition` is the hex SHA-256 of the preimage
 * without 0x and preimages are hex without 0x, exactly as Coffer writes them, so values pass
 * between the two ecosystems unchanged (a leading 0x is accepted on input).
 *
 * Every write waits for its receipt and checks its status; a transaction the chain refuses
 * (at gas estimation or mined and reverted) becomes an HtlcError whose `code` says which call
 * failed and whose `reason` names the contract's error (`LockExpired`, `PreimageMismatch`, …).
 * lockFunds, releaseLock and refundLock are idempotent: repeated after success, they answer with
 * the transaction that did it instead of failing.
 *
 * Finding transactions scans event logs from `fromBlock` (default 0). That is cheap on a test
 * chain; on a long chain pass the block the contract was deployed in.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  defineChain,
  erc20Abi,
  http,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { hashTimeLockAbi, LockStateCode } from './abi.js';

export type SigningClient = WalletClient<Transport, Chain, Account>;

export interface HtlcConnection {
  publicClient: PublicClient;
  /** Needed only to write (lock, release, refund). */
  walletClient?: SigningClient;
  htlc: Address;
  /** Log scans start here (see the header). */
  fromBlock: bigint;
  /** Blocks on top of a transaction's block before it counts as committed. */
  confirmations: number;
}

export interface HtlcConnectOptions {
  rpcUrl: string;
  htlc: Address;
  privateKey?: Hex;
  fromBlock?: bigint;
  confirmations?: number;
  /** How often to poll for receipts; small against an instamining test chain. */
  pollingIntervalMs?: number;
}

export type HtlcTarget = HtlcConnection | HtlcConnectOptions;

export interface LockTerms {
  token: Address;
  /** The lock id, 0x + 64 hex digits, chosen by the payer. */
  id: Hex;
  recipient: Address;
  amount: bigint;
  /** Hex SHA-256 of the preimage, 64 hex digits (0x optional). */
  condition: string;
  /** Unix seconds; the lock can be withdrawn while block.timestamp <= timelock. */
  timelock: number;
}

/** A lock as the contract shows it. */
export interface HtlcLock {
  id: Hex;
  state: 'open' | 'withdrawn' | 'refunded';
  token: Address;
  sender: Address;
  recipient: Address;
  amount: bigint;
  /** Hex SHA-256 without 0x. */
  condition: string;
  timelock: number;
  /** Hex without 0x; set once withdrawn. */
  preimage?: string;
}

export type HtlcErrorCode =
  | 'evm_invalid_input'
  | 'evm_signer_required'
  | 'evm_approve_failed'
  | 'evm_lock_failed'
  | 'evm_lock_conflict'
  | 'evm_withdraw_failed'
  | 'evm_refund_failed'
  | 'evm_lock_not_found';

/** An operational fault from the chain or a refused transaction; `reason` names the revert. */
export class HtlcError extends Error {
  constructor(
    readonly code: HtlcErrorCode,
    message: string,
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** How often to poll for a receipt by default: a fraction of any real chain's block time. */
const DEFAULT_POLLING_INTERVAL_MS = 1_000;
/** Longest wait for a receipt: a transaction not mined by then is reported, not waited for. */
const RECEIPT_TIMEOUT_MS = 120_000;
/** Coffer's preimage limit (`invalid_preimage`), which the contract enforces too. */
const PREIMAGE_BYTES_MAX = 256;
const BYTES32_HEX = /^0x[0-9a-f]{64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ADDRESS_HEX = /^0x[0-9a-fA-F]{40}$/;
/** A uint64, the contract's timelock type. */
const TIMELOCK_MAX = 2n ** 64n - 1n;
/** How deep to follow an error's causes looking for revert data. */
const ERROR_CAUSE_DEPTH_MAX = 16;

function invalid(field: string, message: string): HtlcError {
  return new HtlcError('evm_invalid_input', `${field}: ${message}`);
}

function strip0x(hex: string): string {
  return hex.startsWith('0x') ? hex.slice(2) : hex;
}

/** Lowercase hex without 0x; checks it is whole bytes. */
function normaliseHex(field: string, value: string): string {
  const hex = strip0x(value).toLowerCase();
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw invalid(field, 'must be hex in whole bytes');
  return hex;
}

export function checkLockId(id: string): Hex {
  const lower = id.toLowerCase();
  if (!BYTES32_HEX.test(lower)) throw invalid('id', 'must be 0x and 64 hex digits');
  return lower as Hex;
}

export function checkCondition(condition: string): string {
  const hex = normaliseHex('condition', condition);
  if (!SHA256_HEX.test(hex)) throw invalid('condition', 'must be a SHA-256 digest, 64 hex digits');
  return hex;
}

export function checkPreimage(preimage: string): string {
  const hex = normaliseHex('preimage', preimage);
  const bytes = hex.length / 2;
  if (bytes < 1 || bytes > PREIMAGE_BYTES_MAX) {
    throw invalid('preimage', `must be 1 to ${PREIMAGE_BYTES_MAX} bytes`);
  }
  return hex;
}

function checkAddress(field: string, address: string): Address {
  if (!ADDRESS_HEX.test(address)) throw invalid(field, 'must be 0x and 40 hex digits');
  return address as Address;
}

function checkLockTerms(terms: LockTerms): LockTerms {
  if (terms.amount <= 0n) throw invalid('amount', 'must be positive');
  if (!Number.isSafeInteger(terms.timelock) || terms.timelock <= 0) {
    throw invalid('timelock', 'must be a positive whole number of unix seconds');
  }
  if (BigInt(terms.timelock) > TIMELOCK_MAX) throw invalid('timelock', 'must fit in 64 bits');
  return {
    token: checkAddress('token', terms.token),
    id: checkLockId(terms.id),
    recipient: checkAddress('recipient', terms.recipient),
    amount: terms.amount,
    condition: checkCondition(terms.condition),
    timelock: terms.timelock,
  };
}

/** Connects to a chain: one eth_chainId call, so transactions are signed for the right chain. */
export async function connectHtlc(options: HtlcConnectOptions): Promise<HtlcConnection> {
  const pollingInterval = options.pollingIntervalMs ?? DEFAULT_POLLING_INTERVAL_MS;
  const transport = http(options.rpcUrl);
  const probe = createPublicClient({ transport });
  const chainId = await probe.getChainId();
  const chain = defineChain({
    id: chainId,
    name: `evm-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport, pollingInterval });
  const walletClient = options.privateKey
    ? createWalletClient({
        account: privateKeyToAccount(options.privateKey),
        chain,
        transport,
        pollingInterval,
      })
    : undefined;
  return {
    publicClient,
    walletClient,
    htlc: checkAddress('htlc', options.htlc),
    fromBlock: options.fromBlock ?? 0n,
    confirmations: options.confirmations ?? 1,
  };
}

async function asConnection(target: HtlcTarget): Promise<HtlcConnection> {
  return 'publicClient' in target ? target : connectHtlc(target);
}

function signer(connection: HtlcConnection): SigningClient {
  if (!connection.walletClient) {
    throw new HtlcError('evm_signer_required', 'this call sends a transaction: give a privateKey');
  }
  return connection.walletClient;
}

/** Hex revert data somewhere on an error or its causes, in any of the shapes nodes use. */
function findRevertData(error: unknown): Hex | undefined {
  const isHex = (value: unknown): value is Hex =>
    typeof value === 'string' && /^0x([0-9a-fA-F]{2})+$/.test(value);
  for (let e: unknown = error, depth = 0; e && depth < ERROR_CAUSE_DEPTH_MAX; depth += 1) {
    const data = (e as { data?: unknown }).data;
    if (isHex(data)) return data; // geth, anvil: error.data is the revert data
    if (data && typeof data === 'object') {
      // ganache: error.data.result; hardhat and others: error.data.data
      const nested = data as { result?: unknown; data?: unknown };
      if (isHex(nested.result)) return nested.result;
      if (isHex(nested.data)) return nested.data;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The name of the contract error a failed call, estimate or write reverted with, e.g.
 * `LockExpired`, decoded with `abi` (HashTimeLock's by default); undefined when there is none.
 * viem decodes standard nodes' answers itself; ganache puts the revert data where viem does not
 * look (error.data.result), so that is decoded here.
 */
export function revertReason(error: unknown, abi: Abi = hashTimeLockAbi): string | undefined {
  if (error instanceof BaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
      return reverted.data.errorName;
    }
  }
  const data = findRevertData(error);
  if (!data) return undefined;
  try {
    return decodeErrorResult({ abi, data }).errorName;
  } catch {
    return undefined; // revert data of an error not in the ABI
  }
}

/**
 * Sends one contract write and waits for it to be committed; a refusal at estimation or a
 * reverted receipt becomes an HtlcError with `code`.
 */
async function sendAndWait(
  connection: HtlcConnection,
  code: HtlcErrorCode,
  what: string,
  send: (wallet: SigningClient) => Promise<Hex>,
): Promise<{ txHash: Hex; blockNumber: bigint }> {
  const wallet = signer(connection);
  let txHash: Hex;
  try {
    txHash = await send(wallet);
  } catch (error) {
    const reason = revertReason(error);
    const detail = reason ?? (error instanceof BaseError ? error.shortMessage : String(error));
    throw new HtlcError(code, `${what} refused: ${detail}`, reason, { cause: error });
  }
  const receipt = await connection.publicClient.waitForTransactionReceipt({
    hash: txHash,
    confirmations: connection.confirmations,
    timeout: RECEIPT_TIMEOUT_MS,
  });
  if (receipt.status !== 'success') {
    throw new HtlcError(code, `${what} reverted in block ${receipt.blockNumber} (tx ${txHash})`);
  }
  return { txHash, blockNumber: receipt.blockNumber };
}

/** The lock under `id` (at `blockNumber`, default the latest), or undefined when there is none. */
export async function readLock(
  target: HtlcTarget,
  id: string,
  options: { blockNumber?: bigint } = {},
): Promise<HtlcLock | undefined> {
  const connection = await asConnection(target);
  const lockId = checkLockId(id);
  const l = await connection.publicClient.readContract({
    address: connection.htlc,
    abi: hashTimeLockAbi,
    functionName: 'getLock',
    args: [lockId],
    ...(options.blockNumber === undefined ? {} : { blockNumber: options.blockNumber }),
  });
  const states = {
    [LockStateCode.open]: 'open',
    [LockStateCode.withdrawn]: 'withdrawn',
    [LockStateCode.refunded]: 'refunded',
  } as const;
  if (l.state === LockStateCode.none) return undefined;
  const state = states[l.state as keyof typeof states] as HtlcLock['state'] | undefined;
  if (!state) throw new Error(`getLock(${lockId}) answered an unknown state ${l.state}`);
  return {
    id: lockId,
    state,
    token: l.token,
    sender: l.sender,
    recipient: l.recipient,
    amount: l.amount,
    condition: strip0x(l.hashlock),
    timelock: Number(l.timelock),
    ...(state === 'withdrawn' ? { preimage: strip0x(l.preimage) } : {}),
  };
}

/** The hash of the transaction that emitted `eventName` for lock `id`, if any. */
export async function findLockEventTx(
  target: HtlcTarget,
  eventName: 'Locked' | 'Withdrawn' | 'Refunded',
  id: string,
): Promise<Hex | undefined> {
  const connection = await asConnection(target);
  const logs = await connection.publicClient.getContractEvents({
    address: connection.htlc,
    abi: hashTimeLockAbi,
    eventName,
    args: { id: checkLockId(id) },
    fromBlock: connection.fromBlock,
    toBlock: 'latest',
  });
  // An id is locked, withdrawn and refunded at most once each, so there is at most one log.
  return logs[0]?.transactionHash ?? undefined;
}

/** The transaction that withdrew lock `id` (where its preimage was revealed), if any. */
export async function findWithdrawnTx(target: HtlcTarget, id: string): Promise<Hex | undefined> {
  return findLockEventTx(target, 'Withdrawn', id);
}

function sameTerms(lock: HtlcLock, terms: LockTerms, sender: Address): boolean {
  return (
    lock.token.toLowerCase() === terms.token.toLowerCase() &&
    lock.sender.toLowerCase() === sender.toLowerCase() &&
    lock.recipient.toLowerCase() === terms.recipient.toLowerCase() &&
    lock.amount === terms.amount &&
    lock.condition === terms.condition &&
    lock.timelock === terms.timelock
  );
}

export interface LockResult {
  lockId: Hex;
  /** The transaction that made the lock (this call's, or the earlier one's). */
  txHash: Hex;
  /** False when the lock already existed with these terms and nothing was sent. */
  created: boolean;
}

/**
 * Locks `amount` of `token` for `recipient`: approves the contract for the amount when the
 * allowance is short, then locks. When `id` is already locked by this signer with the same
 * terms, answers with that lock; with other terms (or by someone else), fails with
 * `evm_lock_conflict`.
 */
export async function lockFunds(target: HtlcTarget, lockTerms: LockTerms): Promise<LockResult> {
  const connection = await asConnection(target);
  const terms = checkLockTerms(lockTerms);
  const wallet = signer(connection);
  const owner = wallet.account.address;

  const existing = await readLock(connection, terms.id);
  if (existing) {
    if (!sameTerms(existing, terms, owner)) {
      throw new HtlcError(
        'evm_lock_conflict',
        `lock ${terms.id} already exists with other terms (sender ${existing.sender}, amount ${existing.amount}, timelock ${existing.timelock})`,
      );
    }
    const txHash = await findLockEventTx(connection, 'Locked', terms.id);
    if (!txHash) throw new Error(`lock ${terms.id} exists but its Locked event was not found`);
    return { lockId: terms.id, txHash, created: false };
  }

  const allowance = await connection.publicClient.readContract({
    address: terms.token,
    abi: erc20Abi,
    functionName: 'allowance',
    args: [owner, connection.htlc],
  });
  if (allowance < terms.amount) {
    await sendAndWait(connection, 'evm_approve_failed', `approve ${terms.amount}`, (w) =>
      w.writeContract({
        address: terms.token,
        abi: erc20Abi,
        functionName: 'approve',
        args: [connection.htlc, terms.amount],
      }),
    );
  }
  const { txHash } = await sendAndWait(connection, 'evm_lock_failed', `lock ${terms.id}`, (w) =>
    w.writeContract({
      address: connection.htlc,
      abi: hashTimeLockAbi,
      functionName: 'lock',
      args: [
        terms.id,
        terms.token,
        terms.recipient,
        terms.amount,
        `0x${terms.condition}`,
        BigInt(terms.timelock),
      ],
    }),
  );
  return { lockId: terms.id, txHash, created: true };
}

/**
 * Withdraws lock `id` to its recipient with `preimage` (anyone may). Already withdrawn: answers
 * with the withdrawing transaction. Refunded or missing: fails (`evm_withdraw_failed`,
 * `evm_lock_not_found`).
 */
export async function releaseLock(
  target: HtlcTarget,
  params: { id: string; preimage: string },
): Promise<{ txHash: Hex; created: boolean }> {
  const connection = await asConnection(target);
  const id = checkLockId(params.id);
  const preimage = checkPreimage(params.preimage);
  const lock = await readLock(connection, id);
  if (!lock) throw new HtlcError('evm_lock_not_found', `no lock ${id}`);
  if (lock.state === 'withdrawn') {
    const txHash = await findWithdrawnTx(connection, id);
    if (!txHash) throw new Error(`lock ${id} is withdrawn but its Withdrawn event was not found`);
    return { txHash, created: false };
  }
  if (lock.state === 'refunded') {
    throw new HtlcError('evm_withdraw_failed', `lock ${id} was refunded`, 'LockNotOpen');
  }
  const { txHash } = await sendAndWait(connection, 'evm_withdraw_failed', `withdraw ${id}`, (w) =>
    w.writeContract({
      address: connection.htlc,
      abi: hashTimeLockAbi,
      functionName: 'withdraw',
      args: [id, `0x${preimage}`],
    }),
  );
  return { txHash, created: true };
}

/**
 * Refunds expired lock `id` to its sender (anyone may). Already refunded: answers with the
 * refunding transaction. Withdrawn, missing or not yet expired: fails.
 */
export async function refundLock(
  target: HtlcTarget,
  params: { id: string },
): Promise<{ txHash: Hex; created: boolean }> {
  const connection = await asConnection(target);
  const id = checkLockId(params.id);
  const lock = await readLock(connection, id);
  if (!lock) throw new HtlcError('evm_lock_not_found', `no lock ${id}`);
  if (lock.state === 'refunded') {
    const txHash = await findLockEventTx(connection, 'Refunded', id);
    if (!txHash) throw new Error(`lock ${id} is refunded but its Refunded event was not found`);
    return { txHash, created: false };
  }
  if (lock.state === 'withdrawn') {
    throw new HtlcError('evm_refund_failed', `lock ${id} was withdrawn`, 'LockNotOpen');
  }
  const { txHash } = await sendAndWait(connection, 'evm_refund_failed', `refund ${id}`, (w) =>
    w.writeContract({
      address: connection.htlc,
      abi: hashTimeLockAbi,
      functionName: 'refund',
      args: [id],
    }),
  );
  return { txHash, created: true };
}

/** An account's balance of an ERC-20 token, minor units. */
export async function tokenBalance(
  target: HtlcTarget,
  token: Address,
  owner: Address,
): Promise<bigint> {
  const connection = await asConnection(target);
  return connection.publicClient.readContract({
    address: checkAddress('token', token),
    abi: erc20Abi,
    functionName: 'balanceOf',
    args: [checkAddress('owner', owner)],
  });
}
