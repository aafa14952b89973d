/*
 * Another Coffer chain as an ecosystem: the engine's locks are hash-locked holds (`hold.create`
 * with a SHA-256 condition), a user's lock for the engine is a hold whose payee is the engine,
 * and a claim is `hold.release` with the preimage. Holds refund themselves past their expiry
 * height, so `refund` has nothing to send.
 *
 * Every tx the engine signs goes through the journal first (the signed tx, by the engine's key
 * for the action): a restarted engine finds the tx it may have sent and asks the chain about that
 * hash, or sends the same bytes again; it never signs a second tx for one action. The engine's
 * txs on one chain are signed in nonce order by one queue, and `recover` sends every journaled tx
 * the chain does not know, in nonce order, before anything new is signed.
 */
import { createClient, CofferError, type CofferClient } from '../../../sdk/client.js';
import type { SigningKey } from '../../../sdk/keys.js';
import { hashTx, signTx, txs, type SignedTx } from '../../../sdk/tx.js';
import type { HashLockLedger, LockReceipt, LockRequest, LockState } from './ledgers.js';

/** The engine's durable record of the txs it signed: kept in its store (store.ts). */
export interface TxJournal {
  get(ecosystem: string, key: string): SignedTx | undefined;
  put(ecosystem: string, key: string, tx: SignedTx): void;
  /** Journaled txs of an ecosystem from `fromNonce` on, in nonce order. */
  list(ecosystem: string, fromNonce: number): SignedTx[];
}

export interface CofferLedgerOptions {
  /** The ecosystem's id in the registry (with the key's address, the journal's namespace). */
  ecosystem: string;
  url: string;
  key: SigningKey;
  /** The chain's fastest and slowest block interval (the registry's blockMsMin, blockMsMax). */
  blockMsMin: number;
  blockMsMax: number;
  journal: TxJournal;
  /** How long one HTTP request may take. */
  timeoutMs?: number;
}

/** An error of this adapter, with a snake_case code the engine records. */
export class LedgerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The settling events of a hold: one of them closes it. */
const settleEvents = 'hold.released,hold.expired,hold.posted,hold.voided';
/** Settled holds remembered (a forward asks about its two locks a few times, then never again). */
const settledRememberedMax = 100_000;

type Settled = Exclude<LockState, { state: 'open' } | { state: 'missing' } | { state: 'expired' }>;

export class CofferLedger implements HashLockLedger {
  readonly kind = 'coffer' as const;
  readonly engineAddress: string;
  private readonly client: CofferClient;
  private chainId: string | undefined;
  /** The next nonce the engine signs with; read from the chain when the queue starts. */
  private nextNonce: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly settled = new Map<string, Settled>();
  /** Per hold: the height from which its settling event is still to be looked for. */
  private readonly searchFrom = new Map<string, number>();

  /** The journal's namespace: the ecosystem and the key that signs there. */
  private readonly namespace: string;

  constructor(private readonly options: CofferLedgerOptions) {
    this.engineAddress = options.key.address;
    this.namespace = `${options.ecosystem}/${options.key.address}`;
    this.client = createClient(options.url, { timeoutMs: options.timeoutMs ?? 10_000 });
  }

  async balance(asset: string): Promise<bigint> {
    const account = await this.client.getAccount(this.engineAddress);
    return BigInt(account.balances.find((b) => b.asset === asset)?.balance ?? '0');
  }

  /** The last committed height. */
  async height(): Promise<number> {
    return (await this.client.health()).height;
  }

  /**
   * Blocks come at most `blockMsMax` apart, so the block after height E comes at the latest
   * (E + 1 - h) * blockMsMax from now: E = h + floor(ms / blockMsMax) - 1.
   */
  async expiryWithin(ms: number): Promise<number> {
    const blocks = Math.floor(ms / this.options.blockMsMax) - 1;
    if (blocks < 1) {
      throw new LedgerError(
        'expiry_too_short',
        `${ms} ms is less than two of this chain's slowest blocks (${this.options.blockMsMax} ms)`,
      );
    }
    return (await this.height()) + blocks;
  }

  /**
   * A tx lands in a block at or below `expiry` if it is sent before block `expiry` is cut, which
   * comes at the earliest (expiry - h) * blockMsMin from now; one block is kept as margin.
   */
  async msLeftAtLeast(expiry: number): Promise<number> {
    const left = expiry - (await this.height()) - 1;
    return Math.max(0, left * this.options.blockMsMin);
  }

  async lock(request: LockRequest): Promise<LockReceipt> {
    const hash = await this.send(
      `lock:${request.key}`,
      txs.createHold({
        to: request.recipient,
        asset: request.asset,
        amount: request.amount.toString(),
        expiresAtHeight: request.expiry,
        condition: request.condition,
      }),
    );
    return { lockId: hash, txId: hash };
  }

  async lockState(lockId: string): Promise<LockState> {
    const known = this.settled.get(lockId);
    if (known) return known;
    const head = await this.height();
    try {
      const hold = await this.client.getHold(lockId);
      // Open at `head` at least: its settling event, when it comes, is above it.
      this.searchFrom.set(lockId, Math.max(this.searchFrom.get(lockId) ?? 0, head));
      if (!hold.open) return { state: 'expired' };
      return {
        state: 'open',
        asset: hold.asset,
        amount: BigInt(hold.amount),
        payer: hold.payer,
        payee: hold.payee,
        condition: hold.condition ?? '',
        expiry: hold.expiresAtHeight,
        ...(hold.arbiter === undefined ? {} : { arbiter: hold.arbiter }),
      };
    } catch (error) {
      if (!(error instanceof CofferError) || error.code !== 'hold_not_found') throw error;
    }
    // Not open: never made (or not yet), or settled: its event says how.
    const lookup = await this.client.getTx(lockId).catch((error: unknown) => {
      if (error instanceof CofferError && error.code === 'tx_not_found') return undefined;
      throw error;
    });
    if (!lookup || lookup.status === 'pending' || lookup.receipt.status !== 'ok') {
      return { state: 'missing' };
    }
    const payer = lookup.tx.sender;
    let from = Math.max(this.searchFrom.get(lockId) ?? 0, lookup.height);
    const to = await this.height();
    while (from <= to) {
      const last = Math.min(to, from + 99);
      let after: string | undefined;
      do {
        const page = await this.client.getEvents({
          from,
          to: last,
          type: settleEvents,
          address: payer,
          ...(after === undefined ? {} : { after }),
        });
        for (const event of page.events) this.remember(event);
        after = page.next;
      } while (after !== undefined);
      from = last + 1;
      this.searchFrom.set(lockId, from);
      const found = this.settled.get(lockId);
      if (found) return found;
    }
    // Committed, gone from state and no event yet seen: the hold expired this very block.
    return { state: 'expired' };
  }

  async claim(lockId: string, preimage: string): Promise<{ txId: string }> {
    try {
      return {
        txId: await this.send(`claim:${lockId}`, txs.releaseHold({ holdId: lockId, preimage })),
      };
    } catch (error) {
      // Released already (by anyone holding the preimage): the funds are the engine's either way.
      const state = await this.lockState(lockId);
      if (state.state === 'released') return { txId: state.txId };
      throw error;
    }
  }

  /** Captures a plain hold whose payee is the engine (deposit-and-forward mode). */
  async capture(lockId: string): Promise<{ txId: string }> {
    return { txId: await this.send(`capture:${lockId}`, txs.postHold({ holdId: lockId })) };
  }

  /** Voids a plain hold whose payee is the engine: all of it returns to its payer. */
  async cancel(lockId: string): Promise<{ txId: string }> {
    return { txId: await this.send(`cancel:${lockId}`, txs.voidHold({ holdId: lockId })) };
  }

  /** Pays `recipient` from the engine's balance (the leg of a forward without hash locks). */
  async pay(request: {
    key: string;
    asset: string;
    amount: bigint;
    recipient: string;
  }): Promise<{ txId: string }> {
    const build = txs.transfer({
      to: request.recipient,
      asset: request.asset,
      amount: request.amount.toString(),
    });
    return { txId: await this.send(`pay:${request.key}`, build) };
  }

  async refund(lockId: string): Promise<{ txId?: string }> {
    // A hold refunds itself in the first block past its expiry height: nothing to send.
    const state = await this.lockState(lockId);
    return state.state === 'refunded' && state.txId !== undefined ? { txId: state.txId } : {};
  }

  /**
   * Sends every journaled tx the chain does not know, in nonce order, and waits for each to
   * commit: after this the chain's nonce is past every tx the engine ever signed.
   */
  async recover(): Promise<void> {
    await this.enqueue(async () => {
      // Txs below the chain's nonce for the engine are committed: only the rest can be lost.
      const { nonce } = await this.client.getAccount(this.engineAddress);
      for (const tx of this.options.journal.list(this.namespace, nonce)) {
        // A tx that failed in its block is settled too: its action's caller learns it again.
        await this.settle(tx).catch((error: unknown) => {
          if (!(error instanceof LedgerError)) throw error;
        });
      }
      this.nextNonce = undefined;
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  /** Signs (once per key), journals, sends and waits for the commit; the tx hash. */
  private async send(key: string, build: { type: string; payload: unknown }): Promise<string> {
    const journal = this.options.journal;
    let tx = journal.get(this.namespace, key);
    if (!tx) {
      tx = await this.enqueue(async () => {
        const already = journal.get(this.namespace, key);
        if (already) return already;
        this.chainId ??= (await this.client.health()).chainId;
        this.nextNonce ??= (await this.client.getAccount(this.engineAddress)).nonce;
        const signed = signTx(
          {
            chainId: this.chainId,
            sender: this.engineAddress,
            nonce: this.nextNonce,
            ...(build as { type: string; payload: Record<string, unknown> }),
          },
          this.options.key,
        );
        journal.put(this.namespace, key, signed);
        this.nextNonce += 1;
        // Sent in nonce order; the commit is awaited outside the queue.
        await this.client.submit(signed).catch((error: unknown) => {
          if (error instanceof CofferError && error.code === 'duplicate_tx') return;
          // Refused before a block: the nonce was not spent; read it again for the next tx.
          this.nextNonce = undefined;
          throw error;
        });
        return signed;
      });
    }
    return this.settle(tx);
  }

  /** Waits for a journaled tx to commit (sending it again when the chain lost it); its hash. */
  private async settle(tx: SignedTx): Promise<string> {
    const hash = hashTx(tx);
    for (;;) {
      const lookup = await this.client.getTx(hash).catch((error: unknown) => {
        if (error instanceof CofferError && error.code === 'tx_not_found') return undefined;
        throw error;
      });
      if (lookup === undefined) {
        await this.client.submit(tx).catch((error: unknown) => {
          if (error instanceof CofferError && error.code === 'duplicate_tx') return;
          throw error;
        });
      } else if (lookup.status !== 'pending') {
        if (lookup.receipt.status !== 'ok') {
          throw new LedgerError(
            lookup.receipt.status,
            `${tx.type} ${hash} failed in block ${lookup.height}: ${lookup.receipt.status}`,
          );
        }
        return hash;
      }
      await new Promise((resolve) => setTimeout(resolve, settlePollMs));
    }
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private remember(event: {
    tx: string | null;
    type: string;
    data: Record<string, unknown>;
  }): void {
    const id = event.data.id;
    if (typeof id !== 'string') return;
    if (this.settled.size >= settledRememberedMax) this.settled.clear();
    if (event.type === 'hold.released' && typeof event.data.preimage === 'string') {
      // The engine checks the preimage against its forward's condition before it acts on it.
      this.settled.set(id, {
        state: 'released',
        preimage: event.data.preimage,
        txId: event.tx ?? '',
      });
    } else if (event.type === 'hold.posted') {
      this.settled.set(id, { state: 'captured', ...(event.tx ? { txId: event.tx } : {}) });
    } else {
      this.settled.set(id, { state: 'refunded', ...(event.tx ? { txId: event.tx } : {}) });
    }
  }
}

/** How often a tx waiting for its block is looked up. */
const settlePollMs = 50;
