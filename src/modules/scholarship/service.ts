import type { FinalBlock, SubmitResult } from '../../node/node.js';
import type { ModuleHost } from '../../node/module-host.js';
import { readProducer } from '../producers/index.js';
import { dueQuestions, readQuestion } from './state.js';

/*
 * The scholarship module's node service (issue 22): the closer. A question nobody awarded waits
 * for its deadline and the 24 h grace, then `question.close` auto-awards or refunds it; before
 * this service someone had to send that tx, and a question nobody closed kept its escrow forever.
 * On each final block, the node that produced it reads the open questions whose deadline + grace
 * is at or before the block's time (the `q-due/` index, oldest first) and sends `question.close`
 * for them, signed by its operator key (`submitOwn`, the node's own lane of the mempool).
 *
 * Bounds: at most `closesInFlightMax` (16) closes of this node are in flight at once, so a flood
 * of due questions closes 16 a block; one in flight per question. A close that fails (its
 * receipt is not ok, or it was not admitted) is logged with its code, never thrown, and that
 * question waits `retryAfterBlocks` final blocks before the next try (at most `retryingMax` such
 * questions are remembered; the oldest is forgotten first, so it is simply tried again). What
 * became of a close is read at each final block from committed state: the question left 'open'
 * (done), the tx is stored with a failed receipt, it was dropped, or `inFlightBlocksMax` blocks
 * passed without it (lost).
 *
 * Only the producer of the final block acts: in a cluster one node sends each block's closes, not
 * every validator (their duplicates would fail as `question_closed`); producers take turns, so a
 * validator that is down or has the service off delays the closes by its turn at most. The
 * service holds nothing that matters across a restart: what is due is read from committed state.
 * `COFFER_SCHOLARSHIP_AUTOCLOSE=0` switches it off (src/node/config.ts).
 */

/** Closes this node has in flight at most: a flood of due questions closes this many a block. */
export const closesInFlightMax = 16;
/** Final blocks a question waits after a failed close before the next try. */
export const retryAfterBlocks = 100;
/** Questions whose close failed that are remembered (and skipped) at most. */
export const retryingMax = 128;
/** Final blocks a sent close may take to commit before it is given up as lost (and retried). */
export const inFlightBlocksMax = 64;

export interface QuestionCloser {
  /** Closes sent and not yet seen committed, refused or lost. */
  readonly inFlight: number;
  /** Questions waiting after a failed close, each with the height of its next try. */
  readonly retrying: ReadonlyMap<string, number>;
}

type CloserHost = Pick<ModuleHost, 'store' | 'onFinalBlock' | 'submitOwn' | 'operator' | 'app'>;

/** Reads a stored header's time and producer (the store keeps it as JSON). */
function headerOf(host: CloserHost, height: number) {
  const block = host.store.getBlock(height);
  if (!block) return undefined;
  const header = JSON.parse(block.header) as { time: number; producer: string };
  return { time: header.time, producer: header.producer };
}

/**
 * Starts the closer on `host`: from now on, each final block this node produced sends the due
 * questions' closes (see above).
 */
export function startQuestionCloser(host: CloserHost): QuestionCloser {
  /** Question id -> the close sent for it: its hash once admitted, the height it was sent at. */
  const inFlight = new Map<string, { hash?: string; sentAt: number }>();
  const retrying = new Map<string, number>();
  const log = host.app.log;

  function failed(questionId: string, height: number, code: string): void {
    inFlight.delete(questionId);
    // The question id and the code only: nothing of the node's key or configuration.
    log.warn({ questionId, code }, 'scholarship closer: question.close failed');
    retrying.delete(questionId);
    retrying.set(questionId, height + retryAfterBlocks);
    if (retrying.size > retryingMax) retrying.delete(retrying.keys().next().value!);
  }

  function send(questionId: string, height: number): void {
    const sending = { sentAt: height } as { hash?: string; sentAt: number };
    inFlight.set(questionId, sending);
    host.submitOwn('question.close', { questionId }, false).then(
      (result: SubmitResult) => {
        if (inFlight.get(questionId) !== sending) return;
        if (result.error) {
          // not_ready: the node is closing.
          if (result.error.code === 'not_ready') inFlight.delete(questionId);
          else failed(questionId, height, result.error.code);
        } else sending.hash = result.hash;
      },
      (error: unknown) => failed(questionId, height, String(error)),
    );
  }

  /** What became of the closes in flight, as of this final block. */
  function settle(block: FinalBlock): void {
    const dropped = new Set(block.dropped);
    for (const [questionId, sending] of inFlight) {
      if (readQuestion(host.store, questionId)?.status !== 'open') {
        inFlight.delete(questionId); // closed: by this close, or by someone else's first
      } else if (sending.hash !== undefined && host.store.getTx(sending.hash)) {
        const receipt = JSON.parse(host.store.getTx(sending.hash)!.receipt) as { status: string };
        failed(questionId, block.height, receipt.status);
      } else if (sending.hash !== undefined && dropped.has(sending.hash)) {
        failed(questionId, block.height, 'dropped');
      } else if (block.height - sending.sentAt > inFlightBlocksMax) {
        failed(questionId, block.height, 'not_committed');
      }
    }
    for (const [questionId, retryAt] of retrying) {
      if (retryAt <= block.height) retrying.delete(questionId);
    }
  }

  function onFinal(block: FinalBlock): void {
    settle(block);
    const header = headerOf(host, block.height);
    if (!header) return;
    if (readProducer(host.store, header.producer)?.operator !== host.operator) return;
    const free = closesInFlightMax - inFlight.size;
    if (free <= 0) return;
    // Enough of the oldest due questions to find `free` that are neither in flight nor waiting.
    const due = dueQuestions(host.store, header.time, free + inFlight.size + retrying.size);
    let sent = 0;
    for (const questionId of due) {
      if (sent >= free) break;
      if (inFlight.has(questionId) || retrying.has(questionId)) continue;
      // The index lists open questions only; read the record to be sure it is still one.
      if (readQuestion(host.store, questionId)?.status !== 'open') continue;
      send(questionId, block.height);
      sent += 1;
    }
  }

  host.onFinalBlock((block) => {
    try {
      onFinal(block);
    } catch (error) {
      log.error({ err: error }, 'scholarship closer: a final block could not be handled');
    }
  });
  return {
    get inFlight() {
      return inFlight.size;
    },
    retrying,
  };
}
