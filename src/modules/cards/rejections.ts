/**
 * Rejections of the cards module's txs, with the sentence a person reads. Codes shared with the
 * token vault (`invalid_token`, `invalid_address`, `invalid_signature`, `invalid_hash`,
 * `invalid_merchant_id`, `token_not_found`, `token_not_active`, `acquirer_merchant_refused`, the
 * domain refusals) keep the tokens module's messages.
 */
export const cardsRejections = {
  invalid_card_id: 'A card id is 3 to 64 characters: A-Z, a-z, 0-9, "-" and "_".',
  invalid_card_token: 'A card token id is 32 lowercase hex digits.',
  invalid_device: "A device id is the Coffer address of the device's ed25519 key.",
  invalid_box_key: "boxKey must be the device's X25519 public key: 64 lowercase hex digits.",
  invalid_request_number: 'n must be a whole number from 1.',
  invalid_token_count: 'count must be a whole number from 1 to 100.',
  invalid_tokens_max: 'tokensMax must be a whole number from 1 to 100.',
  invalid_token_life: 'tokenLifeMs must be from 60,000 (a minute) to 7,776,000,000 (90 days).',
  invalid_hold_blocks: 'holdBlocks must be a whole number from 10 to 10,000,000.',
  invalid_counter: 'counter must be a whole number from 1.',
  invalid_unpredictable_number: 'unpredictableNumber must be 8 lowercase hex digits (4 bytes).',
  invalid_card_face:
    'face must be {issuerName, product: 1 to 40 letters, digits, spaces or .,\'&()/-; art: 1 to 32 of a-z, 0-9, "-"; colour: #rrggbb}.',
  invalid_terminal_request: 'terminal must be {amount, currency, merchantId, unpredictableNumber}.',
  invalid_device_answer:
    'answer must be {token, counter, amount, currency, merchantId, unpredictableNumber, cryptogram}.',
  invalid_cryptogram: 'cryptogram must be 64 lowercase hex digits (HMAC-SHA-256).',
  invalid_requester: 'by must be issuer or device.',
  invalid_card_tokens: 'tokens must be 1 to 100 of {token, keyHash}.',
  invalid_card_token_key: 'key must be 64 lowercase hex digits.',
  card_exists: 'A card with this id is already linked.',
  card_not_found: 'No card has this id.',
  not_card_issuer: "Only the card's issuer (the issuer of its vault token) may do this.",
  not_cardholder: "Only the card's account may accept it.",
  not_card_party: "Only the card's issuer or its account may do this.",
  card_not_pending: 'The card is not waiting to be accepted.',
  card_closed: 'The card is closed.',
  card_not_accepted: 'The cardholder has not accepted the card yet.',
  box_key_signature_invalid: "boxKeySignature is not the device's signature over its box key.",
  device_exists: 'The card is already on this device.',
  card_devices_full: 'The card is on 10 devices already: remove one first.',
  device_not_found: 'The card is not on this device.',
  device_not_pending: 'The card is not waiting for the cardholder to approve this device.',
  device_not_approved: 'The cardholder has not approved this device for the card yet.',
  token_linked: 'This vault token already backs a card that is not closed.',
  device_removed: 'The card was removed from this device.',
  not_card_relay: "Only a validator operator's node relays card token batches and authorisations.",
  mint_request_signature_invalid:
    "signature is not the issuer's (by: issuer) or the device's (by: device) over the batch request.",
  request_out_of_order: "n must be the card device's next request number (nextRequest).",
  token_count_mismatch: 'The batch does not hold count tokens.',
  card_token_exists: 'A card token with this id exists already.',
  card_tokens_limit:
    "The device would hold more unconsumed tokens for this card than the issuer's tokensMax.",
  not_acquirer: 'The acquirer is not registered as an acquirer of the token service.',
  authorisation_signature_invalid: "signature is not the acquirer's over the authorisation.",
  // Shared with the iot module (one message per code).
  amount_mismatch:
    "The amount is not what it must be: a card device's answer for another amount than the terminal's request, or an IoT bill's amount other than price(usage after) - price(usage before).",
  currency_mismatch: "The device's answer is for another currency than the terminal's request.",
  merchant_mismatch: "The device's answer is for another merchant than the terminal's request.",
  unpredictable_number_mismatch:
    "The device's answer carries another unpredictable number than the terminal's request.",
  card_token_not_found: 'No card token has this id.',
  card_token_key_invalid: "The key is not this card token's key.",
  cryptogram_invalid: 'The cryptogram does not check under the card token key.',
  card_token_consumed: 'This card token has already paid once: a token pays only once.',
  card_token_expired: 'This card token has expired.',
  card_suspended: "The card's payment token is suspended.",
  card_deleted: "The card's payment token is deleted.",
  card_currency_mismatch: "The card's account pays in another asset than the terminal's currency.",
} as const;

export type CardsRejection =
  | keyof typeof cardsRejections
  | 'token_not_found'
  | 'token_not_active'
  | 'acquirer_merchant_refused'
  | 'domain_channel_refused'
  | 'domain_merchant_refused'
  | 'token_domain_expired'
  | 'asset_not_found';
