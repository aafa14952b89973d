import { canonicalize } from '../../crypto/index.js';
import type { OrderedStateReader, StateReader, StateView } from '../../state/index.js';
import type { AgreementRecord, AssignmentRecord, ContentRecord, OfferRecord } from './schema.js';

/**
 * The module's name and state namespace: every key below starts with `licensing/`. Each record is
 * one bounded value (a policy has at most 6 permissions of at most 6 constraints; an agreement's
 * devices are at most 16); indexes are empty values under keys that sort the way the routes list
 * them; counters are decimal text.
 */
export const licensingModuleName = 'licensing';

const indexDigits = 2;

export const licensingKeys = {
  content: (contentId: string) => `licensing/content/${contentId}`,
  contentPrefix: 'licensing/content/',
  /** A holder's content (the dashboard), moved on each assignment. */
  byHolder: (holder: string, contentId: string) => `licensing/by-holder/${holder}/${contentId}`,
  byHolderPrefix: (holder: string) => `licensing/by-holder/${holder}/`,
  assignment: (contentId: string, index: number) =>
    `licensing/assignment/${contentId}/${String(index).padStart(indexDigits, '0')}`,
  assignmentPrefix: (contentId: string) => `licensing/assignment/${contentId}/`,
  offer: (contentId: string, offerId: string) => `licensing/offer/${contentId}/${offerId}`,
  /**
   * A content's open offers by offerer, in offerId order: the content's view lists its holder's
   * (at most 64), so sublicensees' offers cannot push the holder's out of it.
   */
  openOffer: (contentId: string, offerer: string, offerId: string) =>
    `licensing/open/${contentId}/${offerer}/${offerId}`,
  openOfferPrefix: (contentId: string, offerer: string) =>
    `licensing/open/${contentId}/${offerer}/`,
  /** How many open offers a content has (all offerers): the catalogue's count. */
  openCount: (contentId: string) => `licensing/open-count/${contentId}`,
  /** How many open offers one offerer has on one content (`openOffersPerOffererMax`). */
  openByOfferer: (contentId: string, offerer: string) =>
    `licensing/open-by/${contentId}/${offerer}`,
  agreement: (agreementId: string) => `licensing/agreement/${agreementId}`,
  /** A licensee's agreements, in agreementId order. */
  byLicensee: (licensee: string, agreementId: string) =>
    `licensing/by-licensee/${licensee}/${agreementId}`,
  byLicenseePrefix: (licensee: string) => `licensing/by-licensee/${licensee}/`,
  /** A content's agreements, in agreementId order. */
  byContent: (contentId: string, agreementId: string) =>
    `licensing/by-content/${contentId}/${agreementId}`,
  byContentPrefix: (contentId: string) => `licensing/by-content/${contentId}/`,
};

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

function readCount(state: StateReader, key: string): number {
  return Number(state.get(key) ?? '0');
}

function writeCount(state: StateView, key: string, count: number): void {
  if (count === 0) state.delete(key);
  else state.set(key, String(count));
}

export function readContent(state: StateReader, contentId: string): ContentRecord | undefined {
  return readJson(state, licensingKeys.content(contentId));
}

/** Writes a content record and moves its holder index from `previousHolder` when it changed. */
export function writeContent(
  state: StateView,
  record: ContentRecord,
  previousHolder?: string,
): void {
  writeJson(state, licensingKeys.content(record.contentId), record);
  if (previousHolder !== undefined && previousHolder !== record.holder) {
    state.delete(licensingKeys.byHolder(previousHolder, record.contentId));
  }
  state.set(licensingKeys.byHolder(record.holder, record.contentId), '');
}

export function readAssignment(
  state: StateReader,
  contentId: string,
  index: number,
): AssignmentRecord | undefined {
  return readJson(state, licensingKeys.assignment(contentId, index));
}

/** The chain of title in order (at most `titleChainMax` records). */
export function readAssignments(
  state: OrderedStateReader,
  contentId: string,
  limit: number,
): AssignmentRecord[] {
  return state
    .range(licensingKeys.assignmentPrefix(contentId), limit)
    .map(([, value]) => JSON.parse(value) as AssignmentRecord);
}

export function writeAssignment(state: StateView, record: AssignmentRecord): void {
  writeJson(state, licensingKeys.assignment(record.contentId, record.index), record);
}

export function readOffer(
  state: StateReader,
  contentId: string,
  offerId: string,
): OfferRecord | undefined {
  return readJson(state, licensingKeys.offer(contentId, offerId));
}

/** Writes an offer, keeping the open index and both open counters in step with its status. */
export function writeOffer(state: StateView, record: OfferRecord): void {
  const before = readOffer(state, record.contentId, record.offerId);
  const wasOpen = before?.status === 'open';
  const isOpen = record.status === 'open';
  writeJson(state, licensingKeys.offer(record.contentId, record.offerId), record);
  if (wasOpen === isOpen) return;
  const delta = isOpen ? 1 : -1;
  const total = licensingKeys.openCount(record.contentId);
  const mine = licensingKeys.openByOfferer(record.contentId, record.offerer);
  writeCount(state, total, readCount(state, total) + delta);
  writeCount(state, mine, readCount(state, mine) + delta);
  const index = licensingKeys.openOffer(record.contentId, record.offerer, record.offerId);
  if (isOpen) state.set(index, '');
  else state.delete(index);
}

export function openOffersOf(state: StateReader, contentId: string): number {
  return readCount(state, licensingKeys.openCount(contentId));
}

export function openOffersBy(state: StateReader, contentId: string, offerer: string): number {
  return readCount(state, licensingKeys.openByOfferer(contentId, offerer));
}

export function readAgreement(
  state: StateReader,
  agreementId: string,
): AgreementRecord | undefined {
  return readJson(state, licensingKeys.agreement(agreementId));
}

/** Writes an agreement and its indexes (by licensee, by content). */
export function writeAgreement(state: StateView, record: AgreementRecord): void {
  writeJson(state, licensingKeys.agreement(record.agreementId), record);
  state.set(licensingKeys.byLicensee(record.licensee, record.agreementId), '');
  state.set(licensingKeys.byContent(record.contentId, record.agreementId), '');
}
