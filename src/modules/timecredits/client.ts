import {
  CryptoInputError,
  fromHex,
  isAddress,
  sign,
  signingMessage,
  toHex,
} from '../../crypto/index.js';
import type { ClientCore, SubmitOptions } from '../../sdk/client.js';
import type { SigningKey } from '../../sdk/keys.js';
import {
  hashUserId,
  issuanceRequestHash,
  minutesText,
  type Alliance,
  type IssuanceRequestBody,
  type IssuanceRequestFields,
  type IssuanceRequestResult,
  type Listing,
  type ListingKind,
  type ListingPage,
  type ListingQuery,
  type MemberListQuery,
  type MemberPage,
  type MemberStatement,
  type Minutes,
  type TimeExchange,
  type TimeLot,
  type Timebank,
  type TimebankListQuery,
  type TimebankMember,
  type TimebankPage,
  type TimebankPolicy,
  type TimecreditsPayload,
  type TimecreditsTxType,
} from './schema.js';

/*
 * Time banks and time credits (issue 5) from a client's side: the tx builders, the coordinator's
 * signed issuance request and the client's `timebanks` namespace. The wire contract (the payload
 * and record schemas, the salted user identifier hash, hours written as `H:MM`) is schema.ts,
 * exported from here too; this file loads no node code (the SDK runs in browsers).
 *
 * Minutes travel as decimal strings of whole minutes (`"150"`); the builders take a string or a
 * bigint and write the string.
 */

export * from './schema.js';

// ---- issuance requests signed by a coordinator ---------------------------------------------------

function checkKey(key: SigningKey): void {
  if (typeof key !== 'object' || key === null || !isAddress(key.address)) {
    throw new CryptoInputError('key', 'key must be a signing key { address, secretKey }');
  }
}

/**
 * A coordinator's `authorization` of a `timecredits.issue` that another account relays (put it in
 * `timebankTxs.issue`). The node's issuance-request route makes one itself from a signed request:
 * most callers want `signIssuanceRequest`.
 */
export function authorizeIssuance(
  key: SigningKey,
  fields: IssuanceRequestFields,
): { coordinator: string; signature: string } {
  checkKey(key);
  const hash = issuanceRequestHash(fields);
  const signature = sign(
    signingMessage('issuanceRequest', hash),
    fromHex(key.secretKey, 'secretKey', 32),
  );
  return { coordinator: key.address, signature: toHex(signature) };
}

export interface IssuanceRequestInput {
  chainId: string;
  /** The bank, as `GET /v1/timebanks/{id}` answers it (its id and salt are used). */
  bank: Pick<Timebank, 'id' | 'salt'>;
  requestId: string;
  userId: string;
  minutes: Minutes;
}

/**
 * Signs an issuance request with a coordinator's key, fetching nothing: the bank's salt and the
 * chain id are given. The node checks the signature and that the key is a coordinator.
 */
export function signIssuanceRequest(
  key: SigningKey,
  input: IssuanceRequestInput,
): IssuanceRequestBody {
  checkKey(key);
  if (typeof input.bank !== 'object' || input.bank === null) {
    throw new CryptoInputError('bank', 'bank must be the time bank record, with id and salt');
  }
  const { coordinator, signature } = authorizeIssuance(key, {
    chainId: input.chainId,
    bankId: input.bank.id,
    requestId: input.requestId,
    userIdHash: hashUserId(input.bank.salt, input.userId),
    minutes: input.minutes,
  });
  return {
    requestId: input.requestId,
    userId: input.userId,
    minutes: minutesText(input.minutes),
    coordinator,
    signature,
  };
}

// ---- tx payloads and builders ------------------------------------------------------------------

/** Drops undefined fields: the node refuses none, but a signed payload should say only what is. */
function defined<T extends Record<string, unknown>>(payload: T): T {
  return Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined)) as T;
}

/** A tx of `type`, its payload typed by the type's schema (as sent). */
function tx<T extends TimecreditsTxType>(type: T, payload: TimecreditsPayload<T>) {
  return { type, payload: defined(payload) };
}

/**
 * Builders for the time bank tx types: `{type, payload}`, ready for `client.send(key, ...)` or
 * `signTx`. Who may send each is the module's rule: any account creates a bank and applies to
 * join one; its coordinators manage coordinators, approve members, issue, pay many, change the
 * policy and make alliances; approved members exchange, post listings and send across.
 */
export const timebankTxs = {
  /** Any account; the bank id is `timebankIdOf(hash of this tx)`. */
  create: (p: {
    name: string;
    coordinators: string[];
    policy: TimebankPolicy;
    creditLimitMinutes: Minutes;
  }) =>
    tx('timebank.create', {
      name: p.name,
      coordinators: p.coordinators,
      policy: p.policy,
      creditLimitMinutes: minutesText(p.creditLimitMinutes, 'creditLimitMinutes'),
    }),
  addCoordinator: (p: { bankId: string; account: string }) => tx('timebank.addCoordinator', p),
  removeCoordinator: (p: { bankId: string; account: string }) =>
    tx('timebank.removeCoordinator', p),
  /** Without `account`: the sender applies (pending). A coordinator adding another: approved. */
  addMember: (p: { bankId: string; account?: string; userIdHash: string }) =>
    tx('timebank.addMember', p),
  approveMember: (p: { bankId: string; account: string }) => tx('timebank.approveMember', p),
  /** A coordinator turns down a pending application (an approved member stays). */
  rejectMember: (p: { bankId: string; account: string }) => tx('timebank.rejectMember', p),
  /** Coordinators; either field or both. */
  setPolicy: (p: { bankId: string; policy?: TimebankPolicy; creditLimitMinutes?: Minutes }) =>
    tx('timebank.setPolicy', {
      bankId: p.bankId,
      policy: p.policy,
      creditLimitMinutes:
        p.creditLimitMinutes === undefined
          ? undefined
          : minutesText(p.creditLimitMinutes, 'creditLimitMinutes'),
    }),
  proposeAlliance: (p: { bankId: string; partnerBankId: string }) =>
    tx('timebank.proposeAlliance', p),
  acceptAlliance: (p: { bankId: string; partnerBankId: string }) =>
    tx('timebank.acceptAlliance', p),
  endAlliance: (p: { bankId: string; partnerBankId: string }) => tx('timebank.endAlliance', p),
  /**
   * A coordinator issues to a member named by exactly one of `account` and `userIdHash`. The node
   * builds this tx itself for an issuance request, with the coordinator's `authorization`.
   */
  issue: (p: {
    bankId: string;
    account?: string;
    userIdHash?: string;
    minutes: Minutes;
    requestId: string;
    authorization?: { coordinator: string; signature: string };
  }) =>
    tx('timecredits.issue', {
      bankId: p.bankId,
      account: p.account,
      userIdHash: p.userIdHash,
      minutes: minutesText(p.minutes),
      requestId: p.requestId,
      authorization: p.authorization,
    }),
  /** The sender is the provider; the recipient pays once both confirmed. */
  recordExchange: (p: {
    bankId: string;
    recipient: string;
    minutes: Minutes;
    offer?: string;
    listing?: number;
  }) =>
    tx('timecredits.recordExchange', {
      bankId: p.bankId,
      recipient: p.recipient,
      minutes: minutesText(p.minutes),
      offer: p.offer,
      listing: p.listing,
    }),
  confirmExchange: (p: { bankId: string; exchange: number }) =>
    tx('timecredits.confirmExchange', p),
  postListing: (p: {
    bankId: string;
    kind: ListingKind;
    title: string;
    category: string;
    minutes: Minutes;
  }) =>
    tx('timecredits.postListing', {
      bankId: p.bankId,
      kind: p.kind,
      title: p.title,
      category: p.category,
      minutes: minutesText(p.minutes),
    }),
  closeListing: (p: { bankId: string; listing: number }) => tx('timecredits.closeListing', p),
  /** A coordinator who is an approved member pays several members from its credits, in one tx. */
  payMany: (p: { bankId: string; payments: { account: string; minutes: Minutes }[] }) =>
    tx('timecredits.payMany', {
      bankId: p.bankId,
      payments: p.payments.map((payment, i) => ({
        account: payment.account,
        minutes: minutesText(payment.minutes, `payments[${i}].minutes`),
      })),
    }),
  /** To a member `to` of an allied bank `toBankId`, 1:1 in minutes, lots keeping base times. */
  transferAcross: (p: { bankId: string; toBankId: string; to: string; minutes: Minutes }) =>
    tx('timecredits.transferAcross', {
      bankId: p.bankId,
      toBankId: p.toBankId,
      to: p.to,
      minutes: minutesText(p.minutes),
    }),
} satisfies Record<string, (payload: never) => { type: string; payload: Record<string, unknown> }>;

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
      /** Members and applicants in account order, a page at a time (`next` continues as `after`). */
      members: (id: string, query: MemberListQuery = {}) =>
        request<MemberPage>('GET', `/v1/timebanks/${segment(id)}/members${search(query)}`),
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
