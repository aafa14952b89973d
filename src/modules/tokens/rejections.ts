/** Rejections of the tokens module's txs, in the precedence the handlers check them. */
export const tokensRejections = {
  invalid_token_bins: 'tokenBins must be 1 to 20 distinct BINs of 6 digits.',
  invalid_address: 'The address is not a valid Coffer address.',
  invalid_participant_name: 'name must be 1 to 80 bytes of text.',
  invalid_roles: 'roles must be 1 to 4 distinct of issuer, requestor, acquirer and wallet.',
  invalid_bins: 'bins must be 1 to 20 distinct BINs of 6 digits.',
  invalid_merchant_ids:
    'merchantIds must be 1 to 100 distinct ids of 1 to 32 characters A-Z, a-z, 0-9, "-", "_".',
  invalid_token: 'A token is 13 to 19 digits passing Luhn.',
  invalid_request_id: 'requestId must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_".',
  invalid_bin: 'A BIN is 6 digits.',
  invalid_last4: 'last4 must be 4 digits.',
  invalid_card_expiry: 'expiry must be a card expiry YYYY-MM (2000 to 2099).',
  invalid_domain:
    'domain must be {channels: 1 to 4 distinct of ecommerce, contactless, in_app, card_on_file; merchantIds: up to 20 distinct ids of 1 to 32 characters A-Z, a-z, 0-9, "-", "_"; expiresAt?: Unix ms}.',
  invalid_assurance_level: 'assuranceLevel must be unverified, low, medium or high.',
  invalid_hash: 'This must be 64 lowercase hex digits.',
  invalid_vault_envelope:
    'vault must be {kekId, wrappedKey (60 bytes hex), iv (12 bytes hex), ciphertext (29 to 35 bytes hex)}.',
  invalid_signature: 'signature must be 128 lowercase hex digits (ed25519).',
  invalid_sequence: 'seq must be a whole number from 1.',
  invalid_initiator: 'initiator must be issuer, requestor or wallet.',
  invalid_reason:
    'reason must be one of verified, customer_request, device_lost, device_stolen, fraud_suspected, account_closed, card_reissued, expiry_update, other.',
  invalid_new_pan: 'pan must be {bin, last4, commitment, fingerprint, vault}.',
  invalid_detokenisation: 'n must be a whole number from 1.',
  invalid_purpose: 'purpose must be authorization, refund, chargeback, fraud_review or recurring.',
  invalid_channel: 'channel must be ecommerce, contactless, in_app or card_on_file.',
  invalid_merchant_id: 'A merchant id is 1 to 32 characters: A-Z, a-z, 0-9, "-" and "_".',
  invalid_rewrap_entries:
    'entries must be 1 to 100 {token, kekId, wrappedKey (60 bytes hex)} of distinct tokens.',
  not_token_service:
    'Only a validator operator of the consortium (the token service provider) may do this.',
  issuer_bins_required: 'An issuer names the BINs it owns; other roles name none.',
  acquirer_merchants_required:
    'An acquirer names the merchant ids it acquires for; other roles name none.',
  participant_exists: 'This address is already a participant.',
  bin_taken: 'A BIN is already an issuer BIN or a token BIN.',
  participant_not_found: 'This address is not a registered participant.',
  not_requestor: 'The requestor is not a registered token requestor.',
  not_wallet: 'The wallet is not a registered wallet.',
  token_bins_not_configured: 'The token service has no token BINs yet.',
  token_bin_invalid: "The token's first six digits are not a token BIN.",
  issuer_not_found: "No registered issuer owns the PAN's BIN.",
  token_request_signature_invalid:
    "The signature does not verify with the participant's key over this request.",
  token_request_duplicate: 'This requestor already used this requestId.',
  token_exists: 'This token was already issued.',
  token_not_found: 'No token has this number.',
  not_token_party: 'The sender is not the token party it names (issuer, requestor or wallet).',
  initiator_not_allowed: 'This initiator may not send this lifecycle event.',
  token_deleted: 'The token is deleted: no event applies to it any more.',
  sequence_out_of_order:
    "The event's sequence number is not the token's next one (a replay, or an event before one it follows).",
  transition_not_allowed: "The event does not apply to the token's status.",
  resume_by_issuer_only: 'The issuer suspended the token: only the issuer resumes it.',
  pan_issuer_mismatch: "A new PAN's BIN must belong to the token's issuer.",
  not_token_issuer: "Only the token's issuer may do this.",
  not_detokenise_party: "Only the token's issuer or a registered acquirer may detokenise.",
  token_not_active: 'The token is not active.',
  domain_channel_refused: "The token's domain does not include this channel.",
  domain_merchant_refused: "The token's domain does not include this merchant.",
  acquirer_merchant_refused:
    'An acquirer must name a merchantId it is registered for (and the token allows).',
  token_not_merchant_scoped:
    'The token names no merchants: only its issuer may detokenise it (an acquirer needs a token scoped to named merchants).',
  token_domain_expired: "The token's domain restriction has expired.",
  detokenisation_out_of_order: "n is not the token's next detokenisation number.",
} as const;

export type TokensRejection = keyof typeof tokensRejections;
