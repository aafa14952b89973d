import { formatUnits, type Hold } from '../sdk/index.js';
import { parseHex, parseWholeNumber, type Command } from './context.js';
import { CliError } from './errors.js';
import { fields, json, table } from './output.js';

function isoTime(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export const inspectCommands: Command[] = [
  {
    name: 'balance',
    synopsis: 'ADDRESS|NAME',
    summary: "an account's nonce, balances, held amounts and open holds",
    positionals: { min: 1, max: 1 },
    async run(ctx, [who]) {
      const address = ctx.resolveAddress(who!, 'ADDRESS');
      const account = await ctx.client.getAccount(address);
      const balances = account.balances.map((b) => ({
        asset: b.asset,
        amount: formatUnits(BigInt(b.balance), b.decimals),
        held: formatUnits(BigInt(b.held), b.decimals),
      }));
      if (ctx.json) {
        ctx.print(json({ address: account.address, nonce: account.nonce, balances }));
        return;
      }
      let text = fields([
        ['address', account.address],
        ['name', who === address ? undefined : who],
        ['nonce', account.nonce],
      ]);
      text +=
        balances.length === 0
          ? 'no balances\n'
          : '\n' +
            table(
              ['ASSET', 'BALANCE', 'HELD', ''],
              account.balances.map((b, i) => [
                b.asset,
                balances[i]!.amount,
                balances[i]!.held,
                b.frozen ? 'frozen' : '',
              ]),
              [1, 2],
            );
      const { holds } = account;
      if (holds.length > 0) {
        const decimals = new Map(account.balances.map((b) => [b.asset, b.decimals]));
        const amount = (h: Hold) => {
          const d = decimals.get(h.asset);
          return d === undefined ? `${h.amount} minor` : formatUnits(BigInt(h.amount), d);
        };
        text +=
          '\nopen holds\n' +
          table(
            ['HOLD ID', 'PAYEE', 'AMOUNT', 'ASSET', 'EXPIRES AT', 'KIND'],
            holds.map((h) => [
              h.id,
              h.payee,
              amount(h),
              h.asset,
              String(h.expiresAtHeight),
              h.condition ? 'hash-locked' : h.arbiter ? 'arbitrated' : '',
            ]),
            [2, 4],
          );
      }
      ctx.print(text);
    },
  },
  {
    name: 'tx show',
    synopsis: 'HASH',
    summary: 'a committed tx, its receipt and its block (--json: with the Merkle proof)',
    positionals: { min: 1, max: 1 },
    async run(ctx, [hashText]) {
      const hash = parseHex(hashText!, 'HASH', 32);
      const found = await ctx.client.getTx(hash);
      if (ctx.json) {
        ctx.print(json(found));
        return;
      }
      if (found.status === 'pending' || !found.tx || !found.receipt) {
        ctx.print(
          fields([
            ['tx', found.hash],
            ['status', found.status ?? 'unknown'],
          ]),
        );
        return;
      }
      const { tx, receipt } = found;
      let text = fields([
        ['tx', found.hash],
        ['status', receipt.status],
        ['height', found.height],
        ['index', found.index],
        ['block', found.block.hash],
        ['type', tx.type],
        ['sender', tx.sender],
        ['nonce', tx.nonce],
        ['expires', tx.expiresAt === undefined ? undefined : isoTime(tx.expiresAt)],
        ['memo', tx.memo],
      ]);
      const payload = Object.entries(tx.payload);
      if (payload.length > 0) {
        text += 'payload\n' + indent(fields(payload.map(([k, v]) => [k, scalar(v)])));
      }
      if (receipt.events.length > 0) {
        text += 'events\n' + indent(receipt.events.map((e) => e.type).join('\n') + '\n');
      }
      ctx.print(text);
    },
  },
  {
    name: 'block show',
    synopsis: 'HEIGHT|latest',
    summary: "a block's signed header and its tx hashes",
    positionals: { min: 1, max: 1 },
    async run(ctx, [which]) {
      const block =
        which === 'latest'
          ? await ctx.client.latestBlock()
          : await ctx.client.getBlock(parseWholeNumber(which!, 'HEIGHT'));
      if (typeof block.header !== 'object') {
        throw new CliError('unexpected_answer', 'the node answered a block without a header');
      }
      if (ctx.json) {
        ctx.print(json(block));
        return;
      }
      const { header } = block;
      let text = fields([
        ['block', block.height],
        ['hash', block.hash],
        ['time', isoTime(header.time)],
        ['chain', header.chainId],
        ['producer', header.producer],
        ['prev hash', header.prevHash],
        ['tx root', header.txRoot],
        ['receipt root', header.receiptRoot],
        ['state root', header.stateRoot],
        [
          'signature',
          `height ${block.signature.height} R ${block.signature.R} s ${block.signature.s}`,
        ],
        ['txs', header.txCount],
      ]);
      if (block.txs && block.txs.length > 0) text += indent(block.txs.join('\n') + '\n');
      ctx.print(text);
    },
  },
];

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}
