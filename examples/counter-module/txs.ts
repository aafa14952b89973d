import { defineTxOf, type ChainModule } from '../../src/chain/index.js';
import { counterPayloads, counterRejections, counterValueMax, type Counter } from './schema.js';

/** Its state namespace: one key per counter, `counter/<name>`. */
export const counterKey = (name: string) => `counter/${name}`;

/**
 * The chain's part: one tx type. The handler is deterministic (block height and sender only, no
 * clock, no I/O), returns a rejection code or nothing, and changes state only on success (the
 * chain restores the snapshot when it rejects).
 */
export const counterChain: ChainModule = {
  name: 'counter',
  rejections: counterRejections,
  txs: {
    'counter.add': defineTxOf(counterPayloads['counter.add'], {
      execute(ctx, { name, by }) {
        const text = ctx.state.get(counterKey(name));
        const value = (text === undefined ? 0 : (JSON.parse(text) as Counter).value) + by;
        if (value > counterValueMax) return 'counter_overflow';
        const counter: Counter = { name, value, lastBy: ctx.sender, updatedAtHeight: ctx.height };
        ctx.state.set(counterKey(name), JSON.stringify(counter));
        ctx.emit('counter.added', { name, by, value });
        return undefined;
      },
    }),
  },
};
