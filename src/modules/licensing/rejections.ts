/**
 * Rejections of the licensing module's txs, with the sentence a person reads. Codes shared with
 * the ledger (`invalid_address`, `invalid_amount`, `asset_not_found`, `insufficient_funds`,
 * `account_frozen`) keep the ledger's messages;
 * The usage refusals (`agreement_revoked` .. `count_exhausted`) are also the gateway's 403 codes.
 */
export const licensingRejections = {
  invalid_content_id:
    "A content id is the 64 lowercase hex digits of the SHA-256 of the content's bytes.",
  invalid_content_title:
    'title must be 1 to 200 characters without control characters or bidirectional overrides.',
  invalid_media_type: 'mediaType must be a media type such as video/webm (at most 100 characters).',
  invalid_size: 'size must be a whole number of bytes from 1 to 2^40.',
  invalid_content_key:
    'publicKey must be an ed25519 public key: 64 lowercase hex digits of a valid point of the prime-order group.',
  invalid_share: 'share must be a whole number of basis points from 0 to 10000.',
  invalid_offer_id:
    'An offerId is 1 to 63 characters: a-z, 0-9 and "-", starting with a letter or digit.',
  invalid_agreement_id:
    'An agreement id is the 64 lowercase hex digits of its licence.accept tx hash.',
  invalid_licence_policy:
    'policy must be {permission: 1 to 6 of {action, constraint?}, prohibition?, duty?} as the licensing spec writes it (ODRL 2.2 shaped).',
  policy_action_duplicate: 'An action appears twice among the permissions (or the prohibitions).',
  policy_constraint_duplicate:
    'A permission has two constraints on one leftOperand (dateTime: two with one operator).',
  policy_window_empty: "A permission's dateTime gteq is not before its dateTime lt.",
  policy_territory_duplicate: 'A spatial constraint lists a territory twice.',
  policy_prohibition_conflict: 'An action is both permitted and prohibited.',
  invalid_duty:
    "duty must be [{action: 'compensate', payAmount: positive minor units, unit: asset symbol}].",
  invalid_pay_amount:
    'payAmount must be a positive whole number of minor units as a decimal string.',
  invalid_uses: 'uses must name 1 to 6 actions, each with 1 to 10000 uses.',
  invalid_devices: 'devices must be at most 16 distinct device hashes (64 lowercase hex each).',
  invalid_registration_proof: 'proof must be 128 lowercase hex digits (an ed25519 signature).',
  registration_proof_invalid:
    "proof is not the content key's signature of registrationMessage(chainId, contentId, sender): only the account the content's gateway signed for may register it.",
  content_exists: 'This content id is registered already (a content registers once).',
  content_not_found: 'No content is registered with this id.',
  not_holder: "Only the content's current rights holder may do this.",
  assign_to_holder: 'The content cannot be assigned to its current holder.',
  shares_exceed_whole:
    'The shares on the chain of title would add up to more than 10000 basis points.',
  title_chain_too_long: 'The chain of title has 16 assignments already.',
  title_index_mismatch:
    'index must be the next position on the chain of title (its assignments + 1): the title changed, or the index is wrong.',
  offer_exists: 'This content has an offer with this id already (offer ids are never reused).',
  offer_not_found: 'The content has no offer with this id.',
  offer_limit_reached:
    'The offerer has 64 open offers on this content already: withdraw one first.',
  offer_not_open: 'The offer is withdrawn.',
  not_offerer: 'Only the offerer may do this.',
  not_offerer_or_holder: "Only the agreement's offerer or the content's holder may revoke it.",
  offerer_not_holder:
    "The offerer no longer holds the content's rights (they were assigned on): its offer cannot be accepted.",
  own_offer: 'The offerer cannot accept its own offer.',
  agreement_not_found: 'No agreement has this id.',
  not_licensee: "Only the parent agreement's licensee may offer a sublicence under it.",
  parent_content_mismatch: 'The parent agreement is for another content.',
  sublicense_not_permitted: 'The parent agreement does not permit sublicense now.',
  exceeds_parent: "A sublicence must stay within its parent's rights (actions and constraints).",
  price_above_max: "The offer's payAmount is above the maxAmount the licensee agreed to.",
  not_gateway_account:
    "Only the content's gateway account (the address of its public key) may report usage.",
  agreement_revoked: 'The agreement is revoked.',
  parent_invalid: 'The parent agreement is revoked, expired, or does not allow this action now.',
  action_not_permitted: 'The agreement does not permit this action.',
  action_prohibited: 'The agreement prohibits this action.',
  not_yet_valid: 'The agreement is not valid yet for this action (dateTime gteq).',
  agreement_expired: 'The agreement has expired for this action.',
  territory_not_allowed: "The client's territory is not among the agreement's territories.",
  device_limit_reached: "The agreement's device limit is reached (or no device was named).",
  invalid_revocation_reason:
    'reason must be 1 to 200 characters without control characters or bidirectional overrides.',
  count_exhausted: 'The uses the agreement allows for this action are used up.',
} as const;

export type LicensingRejection =
  | keyof typeof licensingRejections
  | 'asset_not_found'
  | 'invalid_address'
  | 'invalid_amount'
  | 'insufficient_funds';
