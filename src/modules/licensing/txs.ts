import { defineTxOf, type TxContext, type TxDefinition } from '../../chain/index.js';
import {
  addressFromPublicKey,
  fromHex,
  isAccountablePublicKey,
  verify,
} from '../../crypto/index.js';
import {
  agreementExpiry,
  countLimitOf,
  deviceLimitOf,
  permissionOf,
  permissionWindow,
  withinParent,
  type Action,
} from './policy.js';
import type { LicensingRejection } from './rejections.js';
import { royaltySplits } from './royalties.js';
import {
  licensingPayloads,
  openOffersPerOffererMax,
  registrationMessage,
  shareWhole,
  titleChainMax,
  type AgreementRecord,
  type Split,
} from './schema.js';
import {
  openOffersBy,
  readAgreement,
  readAssignments,
  readContent,
  readOffer,
  writeAgreement,
  writeAssignment,
  writeContent,
  writeOffer,
} from './state.js';

export { licensingRejections, type LicensingRejection } from './rejections.js';

/*
 * The licensing module's handlers (issue 21). Deterministic: time is the block's (`ctx.time`),
 * an agreement's id is its accept tx's hash, amounts are bigints, royalties split by integer
 * arithmetic (royalties.ts). Checks run in a fixed precedence: the payload's records, then the
 * sender's authority, then the state (limits, windows, counts), then the ledger's own checks as
 * money moves. A rejection restores the state the tx found (the chain's snapshot), so a payment
 * that fails half-way (the third of five transfers short of funds) leaves nothing paid.
 *
 * Who may do what, thinking of an outsider with a fresh key and no funds: it may register content
 * (one record per signed tx, strings bounded) and accept offers (paying their duty); it cannot
 * assign, offer, withdraw, revoke or report usage for content it neither holds nor licenses, nor
 * grow another's lists: offers are capped per offerer and content, the chain of title at 16 links,
 * an agreement's devices at 16, each usage report at 10,000 uses per action.
 */

/** Why a parent agreement cannot back a new sublicence offer at `time`, or undefined. */
function sublicenseRefusal(
  parent: AgreementRecord,
  time: number,
): 'parent_invalid' | 'sublicense_not_permitted' | undefined {
  if (parent.status !== 'active') return 'parent_invalid';
  if (parent.expiresAt !== undefined && time >= parent.expiresAt) return 'parent_invalid';
  // A sublicence never sublicenses again (withinParent refuses `sublicense` in a child).
  if (parent.parent !== undefined) return 'sublicense_not_permitted';
  const permission = permissionOf(parent.policy, 'sublicense');
  if (permission === undefined) return 'sublicense_not_permitted';
  if ((parent.policy.prohibition ?? []).some((p) => p.action === 'sublicense')) {
    return 'sublicense_not_permitted';
  }
  const { from, until } = permissionWindow(permission, parent.acceptedAt);
  if (from !== undefined && time < from) return 'sublicense_not_permitted';
  if (until !== undefined && time >= until) return 'sublicense_not_permitted';
  // A count on `sublicense` counts the sublicences granted (acceptances, see licence.accept): an
  // offer needs one left, and only an acceptance uses it.
  const count = countLimitOf(parent.policy, 'sublicense');
  if (count !== undefined && (parent.used.sublicense ?? 0) >= count) {
    return 'sublicense_not_permitted';
  }
  return undefined;
}

/** Whether a parent agreement still backs the acceptance of a sublicence at `time`. */
function parentValid(parent: AgreementRecord | undefined, time: number): parent is AgreementRecord {
  return (
    parent !== undefined &&
    parent.status === 'active' &&
    (parent.expiresAt === undefined || time < parent.expiresAt)
  );
}

/** Pays `splits` of `amount` from the licensee; a split to the licensee itself stays put. */
function pay(ctx: TxContext, asset: string, splits: Split[]): string | undefined {
  for (const split of splits) {
    const amount = BigInt(split.amount);
    if (amount === 0n || split.to === ctx.sender) continue;
    const refusal = ctx.ledger.transfer(ctx.sender, split.to, asset, amount);
    if (refusal) return refusal;
  }
  return undefined;
}

const contentTxs: Record<string, TxDefinition<never>> = {
  'content.register': defineTxOf(licensingPayloads['content.register'], {
    execute: (ctx, p): LicensingRejection | undefined => {
      const key = fromHex(p.publicKey);
      if (!isAccountablePublicKey(key)) return 'invalid_content_key';
      if (readContent(ctx.state, p.contentId)) return 'content_exists';
      const message = registrationMessage(ctx.chainId, p.contentId, ctx.sender);
      if (!verify(fromHex(p.proof), message, key)) return 'registration_proof_invalid';
      const gateway = addressFromPublicKey(key);
      writeContent(ctx.state, {
        contentId: p.contentId,
        title: p.title,
        mediaType: p.mediaType,
        size: p.size,
        owner: ctx.sender,
        holder: ctx.sender,
        publicKey: p.publicKey,
        gateway,
        titleLength: 0,
        sharesTotal: 0,
        registeredAt: ctx.time,
        height: ctx.height,
        tx: ctx.txHash,
      });
      ctx.emit('content.registered', {
        contentId: p.contentId,
        owner: ctx.sender,
        title: p.title,
        mediaType: p.mediaType,
        size: p.size,
        publicKey: p.publicKey,
        gateway,
      });
      return undefined;
    },
  }),
  'content.assign': defineTxOf(licensingPayloads['content.assign'], {
    execute: (ctx, p): LicensingRejection | undefined => {
      const content = readContent(ctx.state, p.contentId);
      if (!content) return 'content_not_found';
      if (content.holder !== ctx.sender) return 'not_holder';
      if (p.to === content.holder) return 'assign_to_holder';
      if (content.titleLength >= titleChainMax) return 'title_chain_too_long';
      // The signed position: a title that leaves an assignment out shows a gap in the indexes.
      if (p.index !== content.titleLength + 1) return 'title_index_mismatch';
      if (content.sharesTotal + p.share > shareWhole) return 'shares_exceed_whole';
      const index = content.titleLength + 1;
      writeAssignment(ctx.state, {
        contentId: p.contentId,
        index,
        from: ctx.sender,
        to: p.to,
        share: p.share,
        time: ctx.time,
        height: ctx.height,
        tx: ctx.txHash,
      });
      writeContent(
        ctx.state,
        {
          ...content,
          holder: p.to,
          titleLength: index,
          sharesTotal: content.sharesTotal + p.share,
        },
        content.holder,
      );
      ctx.emit('content.assigned', {
        contentId: p.contentId,
        index,
        from: ctx.sender,
        to: p.to,
        share: p.share,
      });
      return undefined;
    },
  }),
};

const licenceTxs: Record<string, TxDefinition<never>> = {
  'licence.offer': defineTxOf(licensingPayloads['licence.offer'], {
    execute: (ctx, p): LicensingRejection | undefined => {
      const content = readContent(ctx.state, p.contentId);
      if (!content) return 'content_not_found';
      let parent: AgreementRecord | undefined;
      if (p.parent === undefined) {
        if (content.holder !== ctx.sender) return 'not_holder';
      } else {
        parent = readAgreement(ctx.state, p.parent);
        if (!parent) return 'agreement_not_found';
        if (parent.contentId !== p.contentId) return 'parent_content_mismatch';
        if (parent.licensee !== ctx.sender) return 'not_licensee';
        const refusal = sublicenseRefusal(parent, ctx.time);
        if (refusal) return refusal;
        const exceeds = withinParent(p.policy, parent, ctx.time);
        if (exceeds) return exceeds;
      }
      if (readOffer(ctx.state, p.contentId, p.offerId)) return 'offer_exists';
      const duty = p.policy.duty?.[0];
      if (duty !== undefined && !ctx.ledger.asset(duty.unit)) return 'asset_not_found';
      if (openOffersBy(ctx.state, p.contentId, ctx.sender) >= openOffersPerOffererMax) {
        return 'offer_limit_reached';
      }
      writeOffer(ctx.state, {
        contentId: p.contentId,
        offerId: p.offerId,
        offerer: ctx.sender,
        ...(p.parent === undefined ? {} : { parent: p.parent }),
        policy: p.policy,
        status: 'open',
        time: ctx.time,
        height: ctx.height,
        tx: ctx.txHash,
      });
      ctx.emit('licence.offered', {
        contentId: p.contentId,
        offerId: p.offerId,
        offerer: ctx.sender,
        parent: p.parent ?? null,
        actions: p.policy.permission.map((x) => x.action),
        payAmount: duty?.payAmount ?? null,
        unit: duty?.unit ?? null,
      });
      return undefined;
    },
  }),
  'licence.withdraw': defineTxOf(licensingPayloads['licence.withdraw'], {
    execute: (ctx, p): LicensingRejection | undefined => {
      const offer = readOffer(ctx.state, p.contentId, p.offerId);
      if (!offer) return 'offer_not_found';
      if (offer.offerer !== ctx.sender) return 'not_offerer';
      if (offer.status !== 'open') return 'offer_not_open';
      writeOffer(ctx.state, { ...offer, status: 'withdrawn', withdrawnAt: ctx.time });
      ctx.emit('licence.withdrawn', {
        contentId: p.contentId,
        offerId: p.offerId,
        offerer: offer.offerer,
      });
      return undefined;
    },
  }),
  'licence.accept': defineTxOf(licensingPayloads['licence.accept'], {
    execute: (ctx, p): string | undefined => {
      const content = readContent(ctx.state, p.contentId);
      if (!content) return 'content_not_found';
      const offer = readOffer(ctx.state, p.contentId, p.offerId);
      if (!offer) return 'offer_not_found';
      if (offer.status !== 'open') return 'offer_not_open';
      if (offer.offerer === ctx.sender) return 'own_offer';
      let parent: AgreementRecord | undefined;
      if (offer.parent === undefined) {
        if (offer.offerer !== content.holder) return 'offerer_not_holder';
      } else {
        parent = readAgreement(ctx.state, offer.parent);
        if (!parentValid(parent, ctx.time)) return 'parent_invalid';
        // Each acceptance is one sublicence granted under the parent: a free sublicence offer is
        // bounded by the parent's `sublicense` count in total, not per offer.
        const count = countLimitOf(parent.policy, 'sublicense');
        if (count !== undefined && (parent.used.sublicense ?? 0) >= count) {
          return 'count_exhausted';
        }
      }
      const expiresAt = agreementExpiry(offer.policy, ctx.time, parent?.expiresAt);
      // Never sell a licence that is over before it starts.
      if (expiresAt !== undefined && expiresAt <= ctx.time) return 'agreement_expired';
      const duty = offer.policy.duty?.[0];
      let paid: AgreementRecord['paid'];
      if (duty !== undefined) {
        const amount = BigInt(duty.payAmount);
        if (p.maxAmount !== undefined && amount > BigInt(p.maxAmount)) return 'price_above_max';
        if (!ctx.ledger.asset(duty.unit)) return 'asset_not_found';
        const chain = readAssignments(ctx.state, p.contentId, titleChainMax);
        const splits = royaltySplits(amount, chain, offer.offerer);
        const refusal = pay(ctx, duty.unit, splits);
        if (refusal) return refusal;
        paid = { asset: duty.unit, amount: duty.payAmount, splits };
      }
      const agreement: AgreementRecord = {
        agreementId: ctx.txHash,
        contentId: p.contentId,
        offerId: p.offerId,
        offerer: offer.offerer,
        licensee: ctx.sender,
        ...(offer.parent === undefined ? {} : { parent: offer.parent }),
        policy: offer.policy,
        acceptedAt: ctx.time,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        used: {},
        devices: [],
        ...(paid === undefined ? {} : { paid }),
        status: 'active',
        height: ctx.height,
        tx: ctx.txHash,
      };
      writeAgreement(ctx.state, agreement);
      if (parent) {
        const used = { ...parent.used, sublicense: (parent.used.sublicense ?? 0) + 1 };
        writeAgreement(ctx.state, { ...parent, used });
      }
      ctx.emit('licence.accepted', {
        agreementId: ctx.txHash,
        contentId: p.contentId,
        offerId: p.offerId,
        offerer: offer.offerer,
        licensee: ctx.sender,
        parent: offer.parent ?? null,
        expiresAt: expiresAt ?? null,
        asset: paid?.asset ?? null,
        amount: paid?.amount ?? null,
        splits: paid?.splits ?? [],
      });
      return undefined;
    },
  }),
  'licence.revoke': defineTxOf(licensingPayloads['licence.revoke'], {
    execute: (ctx, p): LicensingRejection | undefined => {
      const agreement = readAgreement(ctx.state, p.agreementId);
      if (!agreement) return 'agreement_not_found';
      const holder = readContent(ctx.state, agreement.contentId)?.holder;
      if (ctx.sender !== agreement.offerer && ctx.sender !== holder) {
        return 'not_offerer_or_holder';
      }
      if (agreement.status === 'revoked') return 'agreement_revoked';
      writeAgreement(ctx.state, {
        ...agreement,
        status: 'revoked',
        revokedAt: ctx.time,
        revokeReason: p.reason,
        revokedBy: ctx.sender,
      });
      ctx.emit('licence.revoked', {
        agreementId: p.agreementId,
        contentId: agreement.contentId,
        licensee: agreement.licensee,
        by: ctx.sender,
        reason: p.reason,
      });
      return undefined;
    },
  }),
  'licence.usage': defineTxOf(licensingPayloads['licence.usage'], {
    execute: (ctx, p): LicensingRejection | undefined => {
      const agreement = readAgreement(ctx.state, p.agreementId);
      if (!agreement) return 'agreement_not_found';
      const content = readContent(ctx.state, agreement.contentId);
      if (!content) return 'content_not_found';
      if (ctx.sender !== content.gateway) return 'not_gateway_account';
      const actions = (Object.keys(p.uses) as Action[]).sort();
      for (const action of actions) {
        // `sublicense` is counted by the sublicences granted (licence.accept), never reported.
        if (action === 'sublicense' || permissionOf(agreement.policy, action) === undefined) {
          return 'action_not_permitted';
        }
      }
      // Usage is recorded and clamped, never refused for being over a limit: the uses were served
      // (the gateway raced, or was made to serve more), and a refusal would lose them. Each action
      // counts up to its `count`; what goes beyond is kept in `overuse` for the holder to see.
      // Usage served before a revocation or expiry is recorded too: the gateway stops serving
      // within a block, and its counts may arrive after.
      const used = { ...agreement.used };
      const overuse = { ...agreement.overuse };
      const overuseNow: Partial<Record<Action, number>> = {};
      for (const action of actions) {
        const uses = p.uses[action] ?? 0;
        const before = used[action] ?? 0;
        const count = countLimitOf(agreement.policy, action);
        const counted = count === undefined ? uses : Math.min(uses, Math.max(0, count - before));
        // Bounds: at most 10,000 uses per tx, so 2^53 is out of reach in practice; refused if not.
        if (!Number.isSafeInteger(before + counted)) return 'count_exhausted';
        used[action] = before + counted;
        if (counted < uses) {
          overuseNow[action] = uses - counted;
          overuse[action] = (overuse[action] ?? 0) + uses - counted;
        }
      }
      // Devices, as usageDecision counts them: one set per agreement, and only for the reported
      // actions whose permission has a deviceCount (the largest of those is the limit: the tx does
      // not say which device used which action). Fresh devices beyond it are counted as overuse.
      const limit = deviceLimitOf(agreement.policy, actions);
      let devices = agreement.devices;
      let overuseDevicesNow = 0;
      if (limit !== undefined) {
        const fresh = (p.devices ?? []).filter((d) => !agreement.devices.includes(d));
        const room = Math.max(0, limit - agreement.devices.length);
        devices = [...agreement.devices, ...fresh.slice(0, room)];
        overuseDevicesNow = Math.max(0, fresh.length - room);
      }
      const overuseDevices = (agreement.overuseDevices ?? 0) + overuseDevicesNow;
      writeAgreement(ctx.state, {
        ...agreement,
        used,
        devices,
        ...(Object.keys(overuse).length === 0 ? {} : { overuse }),
        ...(overuseDevices === 0 ? {} : { overuseDevices }),
      });
      ctx.emit('licence.used', {
        agreementId: p.agreementId,
        contentId: agreement.contentId,
        licensee: agreement.licensee,
        uses: p.uses,
        used,
        devices: devices.length,
        overuse: overuseNow,
        overuseDevices: overuseDevicesNow,
      });
      return undefined;
    },
  }),
};

/** The module's tx types, in the order of the payload schemas. */
export const licensingTxs: Record<string, TxDefinition<never>> = Object.fromEntries(
  Object.keys(licensingPayloads).map((type) => {
    const definition = contentTxs[type] ?? licenceTxs[type];
    if (definition === undefined) throw new Error(`licensing: no handler for ${type}`);
    return [type, definition];
  }),
);
