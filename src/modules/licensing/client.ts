import type { ClientCore } from '../../sdk/client.js';
import type { Action, Policy } from './policy.js';
import type {
  AgreementPage,
  AgreementView,
  ContentPage,
  ContentView,
  LicensingPayload,
  OfferView,
  TitleView,
} from './schema.js';

export * from './schema.js';

/*
 * The licensing module from a client's side: reads and the builders of its txs, as
 * `{type, payload}` for `signTx`. Pure (the schema and the SDK core), so it runs in browsers.
 */

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined,
  );
  if (entries.length === 0) return '';
  return `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}

export interface LicensingPageOptions {
  after?: string;
  limit?: number;
}

/** The licensing namespace of a client. */
export function licensingClient(core: ClientCore) {
  const { request, segment } = core;
  const base = '/v1/licensing';
  return {
    licensing: {
      /** The catalogue: registered content with its open offers count, a page at a time. */
      catalogue: (options: LicensingPageOptions = {}) =>
        request<ContentPage>('GET', `${base}/content${query({ ...options })}`),
      /** One content: its record and its first open offers. */
      content: (contentId: string) =>
        request<ContentView>('GET', `${base}/content/${segment(contentId)}`),
      /** One offer with its ODRL rendering. */
      offer: (contentId: string, offerId: string) =>
        request<OfferView>(
          'GET',
          `${base}/content/${segment(contentId)}/offers/${segment(offerId)}`,
        ),
      /** One agreement with its ODRL rendering and its parent agreement, if a sublicence. */
      agreement: (agreementId: string) =>
        request<AgreementView>('GET', `${base}/agreements/${segment(agreementId)}`),
      /** A content's agreements, a page at a time (the holder's dashboard). */
      contentAgreements: (contentId: string, options: LicensingPageOptions = {}) =>
        request<AgreementPage>(
          'GET',
          `${base}/content/${segment(contentId)}/agreements${query({ ...options })}`,
        ),
      /** A licensee's agreements, a page at a time. */
      agreementsOf: (address: string, options: LicensingPageOptions = {}) =>
        request<AgreementPage>(
          'GET',
          `${base}/accounts/${segment(address)}/agreements${query({ ...options })}`,
        ),
      /** A holder's content, a page at a time. */
      contentOf: (address: string, options: LicensingPageOptions = {}) =>
        request<ContentPage>(
          'GET',
          `${base}/accounts/${segment(address)}/content${query({ ...options })}`,
        ),
      /** The chain of title with each tx's Merkle proofs (verify with `verifyTxInclusion`). */
      title: (contentId: string) =>
        request<TitleView>('GET', `${base}/content/${segment(contentId)}/title`),
    },
  };
}

/** The licensing module's txs as `{type, payload}` for `signTx`. */
export const licensingTxBuilders = {
  register: (payload: LicensingPayload<'content.register'>) => ({
    type: 'content.register',
    payload,
  }),
  /** `index`: the position on the chain of title, its length + 1 (`titleLength + 1`). */
  assign: (contentId: string, to: string, share: number, index: number) => ({
    type: 'content.assign',
    payload: { contentId, to, share, index },
  }),
  offer: (contentId: string, offerId: string, policy: Policy, parent?: string) => ({
    type: 'licence.offer',
    payload: { contentId, offerId, policy, ...(parent === undefined ? {} : { parent }) },
  }),
  withdraw: (contentId: string, offerId: string) => ({
    type: 'licence.withdraw',
    payload: { contentId, offerId },
  }),
  accept: (contentId: string, offerId: string, maxAmount?: string) => ({
    type: 'licence.accept',
    payload: { contentId, offerId, ...(maxAmount === undefined ? {} : { maxAmount }) },
  }),
  revoke: (agreementId: string, reason: string) => ({
    type: 'licence.revoke',
    payload: { agreementId, reason },
  }),
  /** Sent by the content's gateway account: uses per action and device hashes served. */
  usage: (agreementId: string, uses: Partial<Record<Action, number>>, devices?: string[]) => ({
    type: 'licence.usage',
    payload: { agreementId, uses, ...(devices === undefined ? {} : { devices }) },
  }),
};
