import type { CommittedTx } from '../../protocol/api.js';
import type { OrderedStateReader } from '../../state/index.js';
import { toOdrl } from './policy.js';
import {
  openOffersPerOffererMax,
  titleChainMax,
  type AgreementPage,
  type AgreementRecord,
  type AgreementView,
  type ContentPage,
  type ContentRecord,
  type ContentSummary,
  type ContentView,
  type OfferRecord,
  type OfferView,
  type TitleView,
} from './schema.js';
import {
  licensingKeys,
  openOffersOf,
  readAgreement,
  readAssignments,
  readContent,
  readOffer,
} from './state.js';

/*
 * The module's reads, from committed state, for the routes and the tests. Lists are pages in key
 * order: `next` is the cursor of the last entry while more may follow (pass it as `after`).
 */

export const licensingPageDefault = 50;
export const licensingPageMax = 100;
function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > licensingPageMax) {
    throw new RangeError(`limit must be a whole number from 1 to ${licensingPageMax}`);
  }
}

interface Page {
  after?: string;
  limit: number;
}

/** Up to `limit` ids under an index prefix after `after`, and the cursor when more follow. */
function idPage(state: OrderedStateReader, prefix: string, page: Page) {
  checkLimit(page.limit);
  const entries = state.range(
    prefix,
    page.limit + 1,
    page.after === undefined ? {} : { after: prefix + page.after },
  );
  const ids = entries.slice(0, page.limit).map(([key]) => key.slice(prefix.length));
  return { ids, next: entries.length > page.limit ? (ids.at(-1) ?? null) : null };
}

function summary(state: OrderedStateReader, content: ContentRecord): ContentSummary {
  return { ...content, openOffers: openOffersOf(state, content.contentId) };
}

/** The catalogue: every registered content in id order, with its open offers count. */
export function listContent(state: OrderedStateReader, page: Page): ContentPage {
  const { ids, next } = idPage(state, licensingKeys.contentPrefix, page);
  const content = ids
    .map((id) => readContent(state, id))
    .filter((c): c is ContentRecord => c !== undefined)
    .map((c) => summary(state, c));
  return { content, next };
}

/** The content an account holds now (the holder's dashboard). */
export function listHolderContent(
  state: OrderedStateReader,
  holder: string,
  page: Page,
): ContentPage {
  const { ids, next } = idPage(state, licensingKeys.byHolderPrefix(holder), page);
  const content = ids
    .map((id) => readContent(state, id))
    .filter((c): c is ContentRecord => c !== undefined)
    .map((c) => summary(state, c));
  return { content, next };
}

/**
 * A content with its holder's open offers (all of them: at most `openOffersPerOffererMax`), and
 * the count of every open offer (sublicensees' too: read those by their ids).
 */
export function contentView(state: OrderedStateReader, contentId: string): ContentView | undefined {
  const content = readContent(state, contentId);
  if (!content) return undefined;
  const prefix = licensingKeys.openOfferPrefix(contentId, content.holder);
  const offers = state
    .range(prefix, openOffersPerOffererMax)
    .map(([key]) => readOffer(state, contentId, key.slice(prefix.length)))
    .filter((o): o is OfferRecord => o !== undefined);
  return { content, openOffers: openOffersOf(state, contentId), offers };
}

export function offerView(
  state: OrderedStateReader,
  contentId: string,
  offerId: string,
): OfferView | undefined {
  const offer = readOffer(state, contentId, offerId);
  if (!offer) return undefined;
  return {
    offer,
    odrl: toOdrl(offer.policy, {
      uid: `${contentId}/${offerId}`,
      type: 'Offer',
      target: contentId,
      assigner: offer.offerer,
    }),
  };
}

export function agreementView(
  state: OrderedStateReader,
  agreementId: string,
): AgreementView | undefined {
  const agreement = readAgreement(state, agreementId);
  if (!agreement) return undefined;
  const parent =
    agreement.parent === undefined ? undefined : readAgreement(state, agreement.parent);
  return {
    agreement,
    odrl: toOdrl(agreement.policy, {
      uid: agreementId,
      type: 'Agreement',
      target: agreement.contentId,
      assigner: agreement.offerer,
      assignee: agreement.licensee,
    }),
    ...(parent === undefined ? {} : { parent }),
  };
}

function agreementPage(state: OrderedStateReader, prefix: string, page: Page): AgreementPage {
  const { ids, next } = idPage(state, prefix, page);
  const agreements = ids
    .map((id) => readAgreement(state, id))
    .filter((a): a is AgreementRecord => a !== undefined);
  return { agreements, next };
}

/** A licensee's agreements in agreementId order. */
export function listLicenseeAgreements(
  state: OrderedStateReader,
  licensee: string,
  page: Page,
): AgreementPage {
  return agreementPage(state, licensingKeys.byLicenseePrefix(licensee), page);
}

/** A content's agreements in agreementId order. */
export function listContentAgreements(
  state: OrderedStateReader,
  contentId: string,
  page: Page,
): AgreementPage {
  return agreementPage(state, licensingKeys.byContentPrefix(contentId), page);
}

/**
 * The chain of title with the Merkle proofs of its txs: the registration and each assignment as
 * `GET /v1/txs/{hash}` answers them (`committedTx`: the node's `committedTxWithProof`). Undefined
 * when the content is unknown (or a tx of it is not in the block store).
 */
export function titleView(
  state: OrderedStateReader,
  committedTx: (hash: string) => CommittedTx | undefined,
  contentId: string,
): TitleView | undefined {
  const content = readContent(state, contentId);
  if (!content) return undefined;
  const registration = committedTx(content.tx);
  if (!registration) return undefined;
  const assignments: TitleView['assignments'] = [];
  for (const a of readAssignments(state, contentId, titleChainMax)) {
    const tx = committedTx(a.tx);
    if (!tx) return undefined;
    assignments.push({ index: a.index, from: a.from, to: a.to, share: a.share, tx });
  }
  return { contentId, holder: content.holder, registration, assignments };
}
