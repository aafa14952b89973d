import { hashTx, signTx, type UnsignedTx } from '../sdk/index.js';
import {
  checkAddress,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
} from './context.js';
import { CliError, usageError } from './errors.js';
import { fields, json } from './output.js';

/**
 * `coffer tx sign`: a signed tx printed, never sent, for whoever posts it (curl, another machine,
 * a batch). The payload is the wire payload (amounts in minor units, addresses as cof1...), so any
 * tx type of any module can be signed; the node checks it when it is posted. With --nonce and
 * --chain-id it needs no node at all (offline signing).
 */

/** `module.action`, as every tx type is named (`ledger.transfer`, `timecredits.issue`). */
const txTypePattern = /^[a-z][a-zA-Z0-9]{0,31}\.[a-z][a-zA-Z0-9]{0,63}$/;
const chainIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A tx is at most 16 KiB; a payload on the command line cannot usefully be larger. */
const payloadBytesMax = 16 * 1024;
/** Tx types that pay `payload.to` from the sender: the ledger refuses a payee that is the payer. */
const paymentTypes = new Set(['ledger.transfer', 'hold.create']);

/** A payload string meant as an address (one word after `cof1`), not a text that begins so. */
const addressLike = /^cof1[0-9a-z]{6,}$/i;

/** Every string in the payload that claims to be an address must be one, named by its path. */
function checkAddresses(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (addressLike.test(value)) checkAddress(value, `--payload ${path}`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkAddresses(item, `${path}[${index}]`));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) checkAddresses(item, `${path}.${key}`);
  }
}

function payloadOf(text: string): Record<string, unknown> {
  if (Buffer.byteLength(text, 'utf8') > payloadBytesMax) {
    throw usageError(`--payload is larger than a tx may be (${payloadBytesMax} bytes)`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw usageError(`--payload is not JSON: ${(error as Error).message}`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw usageError('--payload must be a JSON object, such as {"to":"cof1...","amount":"7450"}');
  }
  checkAddresses(payload, 'payload');
  return payload as Record<string, unknown>;
}

export const txSignCommands: Command[] = [
  {
    name: 'tx sign',
    synopsis: 'TYPE --payload JSON --from NAME [--nonce N] [--chain-id ID] [--memo TEXT]',
    summary:
      'sign a tx of TYPE (ledger.transfer, ...) with the wire payload JSON (amounts in minor ' +
      'units) and print it without sending it; --json prints only the signed tx, the body of ' +
      'POST /v1/txs. The nonce and chain id come from the node unless given (both given: no node)',
    options: {
      payload: { type: 'string' },
      from: { type: 'string' },
      nonce: { type: 'string' },
      'chain-id': { type: 'string' },
      memo: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [type], values) {
      if (!txTypePattern.test(type!)) {
        throw usageError(`TYPE must be a tx type such as ledger.transfer, got "${type!}"`);
      }
      const payload = payloadOf(requiredOption(values, 'payload'));
      const from = requiredOption(values, 'from');
      const sender = ctx.keystore.get(from).address;
      if (paymentTypes.has(type!) && payload.to === sender) {
        throw new CliError(
          'accounts_must_be_different',
          `--payload payload.to is the address of --from ${from} itself: the payer and the ` +
            'payee must be different accounts',
        );
      }
      const nonceText = stringOption(values, 'nonce');
      const givenChainId = stringOption(values, 'chain-id');
      if (givenChainId !== undefined && !chainIdPattern.test(givenChainId)) {
        throw usageError(`--chain-id ${givenChainId} is not a chain id (a-z, 0-9 and -)`);
      }
      const memo = stringOption(values, 'memo');
      const nonce =
        nonceText === undefined
          ? (await ctx.client.getAccount(sender)).nonce
          : parseWholeNumber(nonceText, '--nonce');
      const chainId = givenChainId ?? (await ctx.client.health()).chainId;
      const unsigned: UnsignedTx = {
        chainId,
        type: type!,
        sender,
        nonce,
        payload,
        ...(memo === undefined ? {} : { memo }),
      };
      const key = await ctx.unlock(from);
      const signed = signTx(unsigned, key);
      if (ctx.json) {
        ctx.print(json(signed));
        return;
      }
      ctx.print(
        `signed tx ${hashTx(unsigned)}, not sent\n` +
          fields([
            ['type', signed.type],
            ['sender', signed.sender],
            ['nonce', signed.nonce],
            ['chain', signed.chainId],
          ]) +
          'send it with:\n' +
          `curl -s -XPOST '${ctx.nodeUrl}/v1/txs?wait=commit' -H 'content-type: application/json' ` +
          `--data-binary '${JSON.stringify(signed).replace(/'/g, `'\\''`)}'\n`,
      );
    },
  },
];
