import type { ClientCore } from '../../sdk/client.js';
import type { SubmitOptions } from '../../sdk/client.js';
import type { SigningKey } from '../../sdk/keys.js';
import {
  signIssuanceRequest,
  type Alliance,
  type IssuanceRequestResult,
  type Listing,
  type ListingPage,
  type ListingQuery,
  type MemberStatement,
  type Minutes,
  type TimeExchange,
  type TimeLot,
  type Timebank,
  type TimebankListQuery,
  type TimebankMember,
  type TimebankPage,
} from '../../sdk/timecredits.js';

/** The client's `timebanks` namespace. */
export function timecreditsClient(core: ClientCore) {
  const { request, requestText, segment, search, waitQuery } = core;
  const client = {
    /** Time banks (issue 5): reads, and issuance requests signed by a coordinator. */
    timebanks: {
      /** Time banks newest first, optionally those one account coordinates, a page at a time. */
      list: (query: TimebankListQuery = {}) =>
        request<TimebankPage>('GET', `/v1/timebanks${search(query)}`),
      /** The bank record, with the `salt` of its members' identifier hashes. */
      get: (id: string) => request<Timebank>('GET', `/v1/timebanks/${segment(id)}`),
      member: (id: string, account: string) =>
        request<TimebankMember>('GET', `/v1/timebanks/${segment(id)}/members/${segment(account)}`),
      /** As of the latest block time: lots with base time, age, expiry and effective value. */
      statement: (id: string, account: string) =>
        request<MemberStatement>(
          'GET',
          `/v1/timebanks/${segment(id)}/members/${segment(account)}/statement`,
        ),
      /** The same statement as CSV text. */
      statementCsv: (id: string, account: string) =>
        requestText(
          'GET',
          `/v1/timebanks/${segment(id)}/members/${segment(account)}/statement?format=csv`,
        ),
      lot: (id: string, number: number) =>
        request<TimeLot>('GET', `/v1/timebanks/${segment(id)}/lots/${segment(number)}`),
      exchange: (id: string, number: number) =>
        request<TimeExchange>('GET', `/v1/timebanks/${segment(id)}/exchanges/${segment(number)}`),
      /** One page of offers and requests; pass the answer's `next` as `after` for the next. */
      listings: (id: string, query: ListingQuery = {}) =>
        request<ListingPage>('GET', `/v1/timebanks/${segment(id)}/listings${search(query)}`),
      listing: (id: string, number: number) =>
        request<Listing>('GET', `/v1/timebanks/${segment(id)}/listings/${segment(number)}`),
      alliance: (id: string, partnerBankId: string) =>
        request<Alliance>(
          'GET',
          `/v1/timebanks/${segment(id)}/alliances/${segment(partnerBankId)}`,
        ),
      /**
       * Asks the node to issue `minutes` to the member known by `userId`, signed by the
       * coordinator `key` (reads the bank's salt and the chain id first). With `wait: 'commit'`
       * (the default) it answers once the issuance is recorded; without, `pending` and the tx
       * hash. A `requestId` is recorded once: a retry with the same id is `duplicate_request`.
       */
      async requestIssuance(
        key: SigningKey,
        input: { bankId: string; requestId: string; userId: string; minutes: Minutes },
        opts: SubmitOptions = { wait: 'commit' },
      ): Promise<IssuanceRequestResult> {
        const [{ chainId }, bank] = await Promise.all([
          core.client.health(),
          client.timebanks.get(input.bankId),
        ]);
        const body = signIssuanceRequest(key, {
          chainId,
          bank,
          requestId: input.requestId,
          userId: input.userId,
          minutes: input.minutes,
        });
        return request<IssuanceRequestResult>(
          'POST',
          `/v1/timebanks/${segment(input.bankId)}/issuance-requests${waitQuery(opts)}`,
          body,
        );
      },
      /** Where an issuance request stands: `pending`, or `recorded` with its account and lot. */
      issuance: (id: string, requestId: string) =>
        request<IssuanceRequestResult>(
          'GET',
          `/v1/timebanks/${segment(id)}/issuance-requests/${segment(requestId)}`,
        ),
    },
  };
  return client;
}

/** What the SDK publishes of this module (src/sdk/index.ts exports it through ../clients.ts). */
export * from '../../sdk/timecredits.js';
