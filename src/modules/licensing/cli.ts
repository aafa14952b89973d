import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
  pageLimitOption,
  parseHex,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json, table } from '../../cli/output.js';
import { report, submitTx } from '../../cli/payments.js';
import { finish, isObject, readJsonFile, verifyCommittedTxs } from '../../cli/verify.js';
import {
  contentTitleLengthMax,
  isAgreementId,
  isContentId,
  isOfferId,
  mediaTypePattern,
  parsePolicy,
  shareWhole,
  type AgreementRecord,
  type ContentRecord,
  licensingTxBuilders,
  type OfferRecord,
  type Policy,
} from './client.js';

/*
 * `coffer content ...` and `coffer licence ...` (issue 21): register content by the SHA-256 of its
 * bytes, assign its rights along the chain of title, offer licences (a policy from a JSON file),
 * accept (pay) them, withdraw and revoke; read content, offers, agreements and the chain of title.
 * `coffer verify title` checks a chain of title offline: every tx's Merkle proof and block
 * signature as `verify tx` does, and that the txs make the chain they claim. The gateway's own
 * commands (`content gateway ...`, `content upload`) are cli-gateway.ts's.
 */

/** A policy file is a few hundred bytes; a large one is a mistake. */
const policyFileBytesMax = 64 * 1024;
/** A saved chain of title: 17 committed txs of a few KiB each, with room to spare. */
const titleFileBytesMax = 4 * 1024 * 1024;
/** Content hashed by `content register FILE`: the chain's own size limit (1 TiB). */
const hashChunkBytes = 1024 * 1024;

/** Media types from a file's extension, for `content register FILE` without `--media-type`. */
const mediaTypesByExtension: Record<string, string> = {
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
  '.mkv': 'video/x-matroska',
  '.ogg': 'video/ogg',
  '.mp3': 'audio/mpeg',
  '.opus': 'audio/opus',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.txt': 'text/plain',
  '.epub': 'application/epub+zip',
};

type Tx = { type: string; payload: Record<string, unknown> };

function contentIdArgument(text: string, what = 'CONTENT_ID'): string {
  if (!isContentId(text)) throw usageError(`${what} must be 64 lowercase hex digits (a SHA-256)`);
  return text;
}

function offerIdArgument(text: string, what = 'OFFER_ID'): string {
  if (!isOfferId(text)) {
    throw usageError(`${what} must be 1 to 63 of a-z, 0-9 and "-" (not first)`);
  }
  return text;
}

function agreementIdArgument(text: string, what = 'AGREEMENT'): string {
  if (!isAgreementId(text)) throw usageError(`${what} must be 64 lowercase hex digits (a tx hash)`);
  return text;
}

/** The SHA-256 (the content id) and the size of a file, read in chunks. */
function hashFile(file: string): { contentId: string; size: number } {
  const hash = createHash('sha256');
  let size = 0;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(hashChunkBytes);
      for (;;) {
        const read = fs.readSync(fd, buffer, 0, buffer.length, null);
        if (read === 0) break;
        hash.update(buffer.subarray(0, read));
        size += read;
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw new CliError('invalid_file', `cannot read ${file}: ${(error as Error).message}`);
  }
  if (size === 0)
    throw new CliError('invalid_file', `${file} is empty: there is nothing to register`);
  return { contentId: hash.digest('hex'), size };
}

/** A policy from a JSON file, checked with the chain's own schema before anything is signed. */
function readPolicy(file: string): Policy {
  let text: string;
  try {
    if (fs.statSync(file).size > policyFileBytesMax) {
      throw new Error(`larger than ${policyFileBytesMax / 1024} KiB`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      'invalid_file',
      `cannot read the policy ${file}: ${(error as Error).message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError('invalid_file', `the policy ${file} is not JSON`);
  }
  const policy = parsePolicy(parsed);
  if ('code' in policy) {
    throw new CliError(String(policy.code), `the policy in ${file} is not valid (${policy.code})`);
  }
  return policy;
}

async function sendTx(ctx: CommandContext, from: string, tx: Tx, title: string): Promise<string> {
  const key = await ctx.unlock(from);
  const result = await submitTx(ctx, key, tx, undefined);
  report(ctx, result, title);
  return result.outcome.hash;
}

function pageOptions(values: OptionValues): { after?: string; limit?: number } {
  const after = stringOption(values, 'after');
  const limit = pageLimitOption(values);
  return {
    ...(after === undefined ? {} : { after }),
    ...(limit === undefined ? {} : { limit }),
  };
}

const time = (ms: number) => new Date(ms).toISOString();

/** A policy in one line per permission: `play (count <= 3, spatial FR DE)`. */
export function policyLines(policy: Policy): string[] {
  const constraintText = (c: NonNullable<Policy['permission'][number]['constraint']>[number]) => {
    switch (c.leftOperand) {
      case 'count':
        return `at most ${c.rightOperand} times`;
      case 'dateTime':
        return `${c.operator === 'gteq' ? 'from' : 'before'} ${time(c.rightOperand)}`;
      case 'elapsedTime':
        return `for ${Math.round(c.rightOperand / 60_000)} min after acceptance`;
      case 'spatial':
        return `in ${c.rightOperand.join(' ')}`;
      case 'deviceCount':
        return `on at most ${c.rightOperand} devices`;
    }
  };
  const lines = policy.permission.map(
    (p) =>
      `${p.action}${p.constraint && p.constraint.length > 0 ? ` (${p.constraint.map(constraintText).join(', ')})` : ''}`,
  );
  for (const p of policy.prohibition ?? []) lines.push(`never ${p.action}`);
  for (const d of policy.duty ?? []) lines.push(`pay ${d.payAmount} ${d.unit} (minor units)`);
  return lines;
}

function describeContent(c: ContentRecord, openOffers: number): string {
  return fields([
    ['content', c.contentId],
    ['title', c.title],
    ['media type', c.mediaType],
    ['size', `${c.size} bytes`],
    ['owner', c.owner],
    ['holder', c.holder],
    ['public key', c.publicKey],
    ['gateway account', c.gateway],
    ['chain of title', `${c.titleLength} assignments, ${c.sharesTotal} basis points kept`],
    ['registered', `${time(c.registeredAt)} at height ${c.height} (tx ${c.tx})`],
    ['open offers', openOffers],
  ]);
}

function describeOffer(o: OfferRecord): string {
  return fields([
    ['offer', `${o.contentId}/${o.offerId}`],
    ['status', o.status],
    ['offerer', o.offerer],
    ['parent', o.parent],
    ['policy', policyLines(o.policy).join('; ')],
    ['offered', `${time(o.time)} at height ${o.height} (tx ${o.tx})`],
  ]);
}

function describeAgreement(a: AgreementRecord): string {
  const rows: [string, string | number | undefined][] = [
    ['agreement', a.agreementId],
    ['status', a.status],
    ['content', a.contentId],
    ['offer', a.offerId],
    ['offerer', a.offerer],
    ['licensee', a.licensee],
    ['parent', a.parent],
    ['policy', policyLines(a.policy).join('; ')],
    ['accepted', time(a.acceptedAt)],
    ['expires', a.expiresAt === undefined ? 'never' : time(a.expiresAt)],
    [
      'used',
      Object.entries(a.used)
        .map(([action, n]) => `${action} ${n}`)
        .join(', ') || 'nothing yet',
    ],
    ['devices', a.devices.length],
  ];
  // Uses the gateway served beyond the licence (recorded, not refused: see licence.usage).
  const overuse = Object.entries(a.overuse ?? {}).map(([action, n]) => `${action} ${n}`);
  if (a.overuseDevices !== undefined) overuse.push(`${a.overuseDevices} devices`);
  if (overuse.length > 0) rows.push(['overuse', overuse.join(', ')]);
  if (a.paid) {
    rows.push(['paid', `${a.paid.amount} ${a.paid.asset}`]);
    for (const s of a.paid.splits) rows.push([`  to ${s.role}`, `${s.amount} ${s.to}`]);
  }
  if (a.status === 'revoked') {
    rows.push(['revoked', `${a.revokeReason ?? ''} at ${time(a.revokedAt ?? 0)}`]);
  }
  return fields(rows);
}

/** A value from untrusted JSON in a sentence. */
const shown = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? 'nothing');

/** The chain of title's claims, checked against the txs that carry them (not their proofs). */
export function titleClaimProblems(title: unknown, contentId: string): string[] {
  const problems: string[] = [];
  if (!isObject(title)) return ['the chain of title is not a JSON object'];
  if (title.contentId !== contentId) {
    problems.push(
      `it is the chain of title of ${JSON.stringify(title.contentId)}, not ${contentId}`,
    );
  }
  const txOf = (bundle: unknown) =>
    isObject(bundle) && isObject(bundle.tx) ? bundle.tx : undefined;
  const registration = txOf(title.registration);
  let holder: unknown;
  if (!registration) problems.push('it has no registration tx');
  else {
    const payload = isObject(registration.payload) ? registration.payload : {};
    if (registration.type !== 'content.register') {
      problems.push(`its first tx is a ${shown(registration.type)}, not a content.register`);
    }
    if (payload.contentId !== contentId) {
      problems.push(`its registration registers ${JSON.stringify(payload.contentId)}`);
    }
    // The registrant is the owner: the first holder of the rights.
    holder = registration.sender;
  }
  const assignments = Array.isArray(title.assignments) ? (title.assignments as unknown[]) : [];
  if (!Array.isArray(title.assignments)) problems.push('it has no list of assignments');
  let sharesTotal = 0;
  let previous: [number, number] | undefined;
  for (const [i, entry] of assignments.entries()) {
    const label = `assignment ${i + 1}`;
    const tx = isObject(entry) ? txOf(entry.tx) : undefined;
    if (!isObject(entry) || !tx) {
      problems.push(`${label} has no tx`);
      holder = undefined;
      continue;
    }
    const payload = isObject(tx.payload) ? tx.payload : {};
    if (entry.index !== i + 1) {
      problems.push(
        `${label} is numbered ${JSON.stringify(entry.index)}: an assignment is missing`,
      );
    }
    if (tx.type !== 'content.assign') problems.push(`${label} is a ${shown(tx.type)} tx`);
    // The signed position: the chain refused any other (title_index_mismatch), so a title with an
    // assignment left out (or a round trip A->B->A dropped) shows a tx whose index is not its place.
    if (payload.index !== i + 1) {
      problems.push(
        `${label} was signed as assignment ${shown(payload.index)}: the title leaves an assignment out`,
      );
    }
    if (payload.contentId !== contentId) {
      problems.push(`${label} assigns ${JSON.stringify(payload.contentId)}`);
    }
    if (tx.sender !== holder) {
      problems.push(
        `${label} was sent by ${shown(tx.sender)}, not by the holder before it (${shown(holder)})`,
      );
    }
    if (entry.from !== tx.sender) problems.push(`${label} claims it is from ${shown(entry.from)}`);
    if (entry.to !== payload.to) {
      problems.push(
        `${label} claims it is to ${shown(entry.to)}, its tx says ${shown(payload.to)}`,
      );
    }
    if (entry.share !== payload.share) {
      problems.push(
        `${label} claims a share of ${shown(entry.share)}, its tx says ${shown(payload.share)}`,
      );
    }
    if (typeof payload.share === 'number') sharesTotal += payload.share;
    // The chain's order: each assignment after the one before it, in height and index.
    const header =
      isObject(entry.tx) && isObject(entry.tx.block) ? entry.tx.block.header : undefined;
    const height = isObject(header) ? header.height : undefined;
    const index = isObject(entry.tx) ? entry.tx.index : undefined;
    if (typeof height === 'number' && typeof index === 'number') {
      if (previous && (height < previous[0] || (height === previous[0] && index <= previous[1]))) {
        problems.push(`${label} is in the chain before the assignment listed ahead of it`);
      }
      previous = [height, index];
    }
    holder = payload.to;
  }
  if (sharesTotal > shareWhole) {
    problems.push(`the shares add up to ${sharesTotal} basis points, more than the whole`);
  }
  if (holder !== undefined && title.holder !== holder) {
    problems.push(
      `the holder is said to be ${shown(title.holder)}, the last assignment is to ${shown(holder)}`,
    );
  }
  return problems;
}

const fromOption = { from: { type: 'string' } } as const;
const pageOptionSpecs = { after: { type: 'string' }, limit: { type: 'string' } } as const;

export const licensingCommands: Command[] = [
  {
    name: 'content register',
    synopsis:
      'FILE | --content-id HEX --size BYTES --title TEXT --public-key HEX --proof HEX [--media-type TYPE] --from NAME',
    summary:
      'register content by the SHA-256 of its bytes (FILE, hashed here; or --content-id and --size); --public-key: the content key the gateway answered at upload; the --from account becomes its owner and holder',
    options: {
      ...fromOption,
      title: { type: 'string' },
      'public-key': { type: 'string' },
      proof: { type: 'string' },
      'media-type': { type: 'string' },
      'content-id': { type: 'string' },
      size: { type: 'string' },
    },
    positionals: { min: 0, max: 1 },
    async run(ctx, [file], values) {
      const given = stringOption(values, 'content-id');
      if ((file === undefined) === (given === undefined)) {
        throw usageError('name the content: a FILE, or --content-id with --size');
      }
      const { contentId, size } =
        file !== undefined
          ? hashFile(file)
          : {
              contentId: contentIdArgument(given!, '--content-id'),
              size: parseWholeNumber(requiredOption(values, 'size'), '--size'),
            };
      const mediaType =
        stringOption(values, 'media-type') ??
        (file === undefined ? undefined : mediaTypesByExtension[path.extname(file).toLowerCase()]);
      if (mediaType === undefined) {
        throw usageError('--media-type is required (video/webm, application/pdf, ...)');
      }
      if (!mediaTypePattern.test(mediaType)) throw usageError('--media-type must be TYPE/SUBTYPE');
      const title = requiredOption(values, 'title');
      if (title.length > contentTitleLengthMax) {
        throw usageError(`--title is ${contentTitleLengthMax} characters at most`);
      }
      const publicKey = parseHex(requiredOption(values, 'public-key'), '--public-key', 32);
      // The content key's signature for this owner on this chain: without it anyone who saw the
      // tx in the pool could register the content first (the gateway signs it at upload).
      const proof = parseHex(requiredOption(values, 'proof'), '--proof', 64);
      const tx = licensingTxBuilders.register({
        contentId,
        title,
        mediaType,
        size,
        publicKey,
        proof,
      });
      await sendTx(ctx, requiredOption(values, 'from'), tx, `content ${contentId} registered`);
    },
  },
  {
    name: 'content assign',
    synopsis: 'CONTENT_ID --to ADDRESS --share BASIS_POINTS [--index N] --from NAME',
    summary:
      "assign the rights to --to (the holder): you keep --share basis points (0 to 10000) of every later payment for a licence; --index: the assignment's position on the chain of title (default: the content's assignments + 1, read from the node; the chain refuses another with title_index_mismatch)",
    options: {
      ...fromOption,
      to: { type: 'string' },
      share: { type: 'string' },
      index: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const contentId = contentIdArgument(id!);
      const share = parseWholeNumber(requiredOption(values, 'share'), '--share');
      if (share > shareWhole) throw usageError(`--share is in basis points: 0 to ${shareWhole}`);
      const given = stringOption(values, 'index');
      const index =
        given !== undefined
          ? parseWholeNumber(given, '--index')
          : (await ctx.client.licensing.content(contentId)).content.titleLength + 1;
      if (index < 1) throw usageError('--index is the position on the chain of title: 1 or more');
      const tx = licensingTxBuilders.assign(
        contentId,
        ctx.resolveAddress(requiredOption(values, 'to'), '--to'),
        share,
        index,
      );
      await sendTx(ctx, requiredOption(values, 'from'), tx, `rights on ${id} assigned`);
    },
  },
  {
    name: 'content show',
    synopsis: 'CONTENT_ID',
    summary: 'show a content record and its open offers',
    positionals: { min: 1, max: 1 },
    async run(ctx, [id]) {
      const view = await ctx.client.licensing.content(contentIdArgument(id!));
      if (ctx.json) return ctx.print(json(view));
      ctx.print(describeContent(view.content, view.openOffers));
      if (view.offers.length > 0) {
        ctx.print(
          table(
            ['offer', 'offerer', 'policy'],
            view.offers.map((o) => [o.offerId, o.offerer, policyLines(o.policy).join('; ')]),
          ),
        );
      }
    },
  },
  {
    name: 'content list',
    synopsis: '[--holder ADDRESS] [--after CONTENT_ID] [--limit N]',
    summary: 'the catalogue, or the content a holder holds (--holder)',
    options: { holder: { type: 'string' }, ...pageOptionSpecs },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const holder = stringOption(values, 'holder');
      const page =
        holder === undefined
          ? await ctx.client.licensing.catalogue(pageOptions(values))
          : await ctx.client.licensing.contentOf(
              ctx.resolveAddress(holder, '--holder'),
              pageOptions(values),
            );
      if (ctx.json) return ctx.print(json(page));
      ctx.print(
        table(
          ['content', 'title', 'type', 'holder', 'offers'],
          page.content.map((c) => [
            c.contentId.slice(0, 16),
            c.title,
            c.mediaType,
            c.holder,
            shown(c.openOffers),
          ]),
        ),
      );
      if (page.next) ctx.print(`more: --after ${page.next}\n`);
    },
  },
  {
    name: 'content title',
    synopsis: 'CONTENT_ID',
    summary:
      'the chain of title: the registration and each assignment (--json: with the Merkle proofs, for coffer verify title --file)',
    positionals: { min: 1, max: 1 },
    async run(ctx, [id]) {
      const title = await ctx.client.licensing.title(contentIdArgument(id!));
      if (ctx.json) return ctx.print(json(title));
      ctx.print(
        table(
          ['#', 'from', 'to', 'share', 'height', 'tx'],
          [
            [
              '0',
              '(registered)',
              title.registration.tx.sender,
              '',
              shown(title.registration.height),
              title.registration.hash,
            ],
            ...title.assignments.map((a) => [
              shown(a.index),
              a.from,
              a.to,
              shown(a.share),
              shown(a.tx.height),
              a.tx.hash,
            ]),
          ],
        ),
      );
      ctx.print(`holder: ${title.holder}\n`);
    },
  },
  {
    name: 'licence offer',
    synopsis: 'CONTENT_ID OFFER_ID --policy FILE [--parent AGREEMENT] --from NAME',
    summary:
      'offer a licence on content (its holder; or, with --parent, a licensee whose agreement permits sublicense, within its rights); FILE: an ODRL-shaped policy in JSON',
    options: { ...fromOption, policy: { type: 'string' }, parent: { type: 'string' } },
    positionals: { min: 2, max: 2 },
    async run(ctx, [id, offerId], values) {
      const parent = stringOption(values, 'parent');
      const tx = licensingTxBuilders.offer(
        contentIdArgument(id!),
        offerIdArgument(offerId!),
        readPolicy(requiredOption(values, 'policy')),
        parent === undefined ? undefined : agreementIdArgument(parent, '--parent'),
      );
      await sendTx(ctx, requiredOption(values, 'from'), tx, `offer ${offerId} made`);
    },
  },
  {
    name: 'licence withdraw',
    synopsis: 'CONTENT_ID OFFER_ID --from NAME',
    summary: 'withdraw an open offer (its offerer): nobody accepts it any more',
    options: fromOption,
    positionals: { min: 2, max: 2 },
    async run(ctx, [id, offerId], values) {
      const tx = licensingTxBuilders.withdraw(contentIdArgument(id!), offerIdArgument(offerId!));
      await sendTx(ctx, requiredOption(values, 'from'), tx, `offer ${offerId} withdrawn`);
    },
  },
  {
    name: 'licence accept',
    synopsis: 'CONTENT_ID OFFER_ID [--max-amount MINOR_UNITS] --from NAME',
    summary:
      'accept an offer, paying its price in the same tx (split along the chain of title); the agreement id is the tx hash. --max-amount: refuse to pay more (minor units)',
    options: { ...fromOption, 'max-amount': { type: 'string' } },
    positionals: { min: 2, max: 2 },
    async run(ctx, [id, offerId], values) {
      const maxAmount = stringOption(values, 'max-amount');
      if (maxAmount !== undefined && !/^(0|[1-9][0-9]{0,35})$/.test(maxAmount)) {
        throw usageError('--max-amount is a whole number of minor units');
      }
      const tx = licensingTxBuilders.accept(
        contentIdArgument(id!),
        offerIdArgument(offerId!),
        maxAmount,
      );
      const hash = await sendTx(
        ctx,
        requiredOption(values, 'from'),
        tx,
        `offer ${offerId} accepted`,
      );
      if (!ctx.json) ctx.print(`agreement ${hash}\n`);
    },
  },
  {
    name: 'licence revoke',
    synopsis: 'AGREEMENT --reason TEXT --from NAME',
    summary:
      "revoke an agreement (its offerer or the content's holder): the gateway stops serving it within one block",
    options: { ...fromOption, reason: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [agreementId], values) {
      const tx = licensingTxBuilders.revoke(
        agreementIdArgument(agreementId!),
        requiredOption(values, 'reason'),
      );
      await sendTx(ctx, requiredOption(values, 'from'), tx, `agreement revoked`);
    },
  },
  {
    name: 'licence show',
    synopsis: 'AGREEMENT | CONTENT_ID OFFER_ID [--odrl]',
    summary: 'show an agreement, or an offer (--odrl: its ODRL 2.2 JSON-LD)',
    options: { odrl: { type: 'boolean' } },
    positionals: { min: 1, max: 2 },
    async run(ctx, [first, offerId], values) {
      if (offerId !== undefined) {
        const view = await ctx.client.licensing.offer(
          contentIdArgument(first!),
          offerIdArgument(offerId),
        );
        if (values.odrl === true) return ctx.print(json(view.odrl));
        return ctx.print(ctx.json ? json(view) : describeOffer(view.offer));
      }
      const view = await ctx.client.licensing.agreement(agreementIdArgument(first!));
      if (values.odrl === true) return ctx.print(json(view.odrl));
      ctx.print(ctx.json ? json(view) : describeAgreement(view.agreement));
    },
  },
  {
    name: 'licence list',
    synopsis: '--licensee ADDRESS [--after AGREEMENT] [--limit N]',
    summary: "a licensee's agreements",
    options: { licensee: { type: 'string' }, ...pageOptionSpecs },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const licensee = ctx.resolveAddress(requiredOption(values, 'licensee'), '--licensee');
      const page = await ctx.client.licensing.agreementsOf(licensee, pageOptions(values));
      if (ctx.json) return ctx.print(json(page));
      ctx.print(
        table(
          ['agreement', 'content', 'offer', 'status', 'expires'],
          page.agreements.map((a) => [
            a.agreementId,
            a.contentId.slice(0, 16),
            a.offerId,
            a.status,
            a.expiresAt === undefined ? 'never' : time(a.expiresAt),
          ]),
        ),
      );
      if (page.next) ctx.print(`more: --after ${page.next}\n`);
    },
  },
  {
    name: 'verify title',
    synopsis: 'CONTENT_ID [--file FILE] [--trust FILE] [--genesis HASH]',
    summary:
      "check a chain of title: each tx's Merkle proof, receipt and block signature (as verify tx), that the first registers the content, that each assignment was sent by the holder before it with its position as the index it signed (none left out), and the holder as of the last tx's height (FILE: a saved coffer content title --json; a later assignment is not covered)",
    // The same trust options as verify tx's (spelt here: verify.ts imports the module registry,
    // which imports this file, so its constants are not yet defined when this list is built).
    options: { file: { type: 'string' }, trust: { type: 'string' }, genesis: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const contentId = contentIdArgument(id!);
      const file = stringOption(values, 'file');
      const title: unknown =
        file !== undefined
          ? readJsonFile(file, titleFileBytesMax, 'a saved chain of title')
          : await ctx.client.licensing.title(contentId);
      const problems = titleClaimProblems(title, contentId);
      const assignments =
        isObject(title) && Array.isArray(title.assignments) ? (title.assignments as unknown[]) : [];
      const bundles = [
        { label: 'the registration', data: isObject(title) ? title.registration : undefined },
        ...assignments.map((a, i) => ({
          label: `assignment ${i + 1}`,
          data: isObject(a) ? a.tx : undefined,
        })),
      ];
      const verified = await verifyCommittedTxs(ctx, values, bundles);
      problems.push(...verified.problems);
      verified.outcomes.forEach((outcome, i) => {
        if (outcome !== undefined && outcome !== 'ok') {
          problems.push(`${bundles[i]!.label}: its receipt says it failed (${outcome})`);
        }
      });
      const holder = isObject(title) ? shown(title.holder) : '?';
      // The title is complete up to the last tx's height (the head followed): an assignment after
      // it would not be in it, so the verdict names that height.
      const asOf = Math.max(
        -1,
        ...bundles.map(({ data }) => {
          const header = isObject(data) && isObject(data.block) ? data.block.header : undefined;
          const height = isObject(header) ? header.height : undefined;
          return typeof height === 'number' ? height : -1;
        }),
      );
      finish(
        ctx,
        {
          ok: problems.length === 0,
          contentId,
          holder: problems.length === 0 ? holder : null,
          assignments: assignments.length,
          asOfHeight: asOf < 0 ? null : asOf,
          anchor: verified.anchor,
          failed: [...new Set(verified.checks)],
          problems,
        },
        `ok: as of height ${asOf}, content ${contentId} was registered by its owner and passed through ` +
          `${assignments.length} assignments, each sent by the holder before it and signed with its ` +
          `position, to ${holder} (a later assignment is not covered); every tx is in its block ` +
          `with outcome ok, signed with a committed nonce (anchored at ${verified.anchor})`,
        `the chain of title of ${contentId} does not verify`,
      );
    },
  },
];
