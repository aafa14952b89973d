/** Rejections of the module, in the precedence the handlers check them. */
export const timecreditsRejections = {
  invalid_bank_id: 'bankId must be the 16 lowercase hex digits of a time bank id.',
  invalid_bank_name: 'name must be 1 to 80 bytes of text.',
  invalid_coordinators: 'coordinators must be 1 to 20 distinct Coffer addresses.',
  invalid_policy:
    'policy must be {kind: "none"}, {kind: "expiry", expiryDays (1 to 36500), noticeDays? (0 to 365, default 7)} or {kind: "demurrage", ratePerPeriodBasisPoints (1 to 10000), periodDays (1 to 3650)}.',
  invalid_minutes: 'Minutes are a whole number from 1 to 1,000,000,000, as a decimal string.',
  invalid_credit_limit:
    'creditLimitMinutes is a whole number from 0 to 1,000,000,000, as a decimal string.',
  invalid_policy_change: 'A policy change names a policy, a creditLimitMinutes, or both.',
  invalid_user_id_hash:
    'userIdHash must be the 64 lowercase hex digits of SHA-256 over the bank salt and the identifier.',
  invalid_request_id: 'requestId must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_".',
  invalid_authorization:
    'authorization must be {coordinator: a Coffer address, signature: 128 lowercase hex digits (ed25519)}.',
  invalid_issue_target: 'Name the member by exactly one of account and userIdHash.',
  invalid_offer: 'offer must be 1 to 200 bytes of text.',
  invalid_listing_id: 'listing must be the whole number of a listing of this bank.',
  invalid_exchange_id: 'exchange must be the whole number of an exchange of this bank.',
  invalid_listing_kind: 'kind must be "offer" or "request".',
  invalid_listing_title: 'title must be 1 to 120 bytes of text.',
  invalid_category:
    'category must be 1 to 40 characters: a-z, 0-9 and "-", starting with a letter or digit.',
  invalid_payments:
    'payments must be 1 to 100 entries {account, minutes} with distinct Coffer addresses and minutes from 1 to 1,000,000,000.',
  invalid_partner_bank: 'The partner bank must be another time bank (a 16-hex-digit id).',
  timebank_exists: 'A time bank with this id already exists.',
  timebank_not_found: 'No time bank has this id.',
  partner_bank_not_found: 'No time bank has the partner (or destination) bank id.',
  not_coordinator: 'Only a coordinator of the time bank may do this.',
  issuance_signature_invalid:
    "The authorization signature does not verify with the coordinator's key over this issuance request.",
  coordinator_exists: 'This account is already a coordinator of the time bank.',
  coordinator_not_found: 'This account is not a coordinator of the time bank.',
  too_many_coordinators: 'The time bank has as many coordinators as it may have.',
  last_coordinator: 'A time bank keeps at least one coordinator.',
  member_exists: 'This account is already a member (or applicant) of the time bank.',
  user_id_taken: 'Another account of the time bank holds this user identifier.',
  member_not_found: 'This account is not a member of the time bank.',
  user_not_found: 'No member of the time bank has this user identifier.',
  member_not_approved: 'The member has not been approved by a coordinator yet.',
  member_already_approved: 'The member is already approved.',
  duplicate_request: 'An issuance with this requestId was already recorded for the time bank.',
  too_many_lots: 'The member holds as many lots as a member may hold.',
  exchange_not_found: 'No exchange of this time bank has this number.',
  listing_not_found: 'No listing of this time bank has this number.',
  not_listing_owner: 'Only the owner of the listing or a coordinator may close it.',
  listing_closed: 'The listing is closed.',
  not_exchange_party: 'Only the provider and the recipient of an exchange may confirm it.',
  already_confirmed: 'This party has already confirmed the exchange.',
  alliance_exists: 'The two banks already have a proposed or active alliance.',
  alliance_not_found: 'The two banks have no proposed or active alliance.',
  alliance_not_proposed: 'The alliance is already active: there is no proposal to accept.',
  own_alliance_proposal: 'The other bank accepts a proposal, not the bank that made it.',
  alliance_not_active: 'The two banks have no active alliance.',
  credit_limit_exceeded:
    "The payer's unexpired credits and remaining credit limit do not cover the minutes.",
  insufficient_credits:
    "The sender's unexpired credits do not cover the minutes (there is no credit across banks).",
} as const;

export type TimecreditsRejection = keyof typeof timecreditsRejections;
