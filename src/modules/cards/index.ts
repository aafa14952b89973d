import type { ChainModule } from '../../chain/index.js';
import type { CofferModule } from '../manifest.js';
import { cardsCommands } from './cli.js';
import { cardDeviceCommands } from './cli-device.js';
import { cardsRoutes } from './routes.js';
import { cardsModuleName } from './state.js';
import { cardsRejections, cardsTxs } from './txs.js';

export * from './schema.js';
export * from './state.js';
export { cardsRejections, type CardsRejection } from './txs.js';
export { checkAuthorisation, liveTokens, mintRefusal } from './txs-payments.js';

/**
 * Payment cards on devices (issue 18): an issuer links a card (a vault token it issued, the
 * cardholder's account and asset, the card's face) that the cardholder accepts, provisions it on
 * devices, and card tokens (limited-use keys, one payment each) are minted for a card on a device
 * at the issuer's or the device's signed request; an acquirer's authorisation checks the device's
 * cryptogram and uses the token in the same tx that holds the amount for the acquirer.
 */
export const cardsModule: ChainModule = {
  name: cardsModuleName,
  txs: cardsTxs,
  rejections: cardsRejections,
};

/** The cards module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const cards: CofferModule = {
  chain: cardsModule,
  routes: cardsRoutes,
  tag: {
    name: 'cards',
    description:
      'Payment cards on devices: linking, devices, card token batches and merchant authorisations.',
  },
  apiErrors: {
    relay_not_validator:
      "This node's operator is not an active validator: it relays no card batches or authorisations.",
  },
  httpStatuses: {
    relay_not_validator: 503,
    device_not_pending: 409,
    device_not_approved: 422,
    token_linked: 409,
    not_card_issuer: 403,
    not_cardholder: 403,
    not_card_party: 403,
    not_card_relay: 403,
    not_acquirer: 403,
    box_key_signature_invalid: 403,
    mint_request_signature_invalid: 403,
    authorisation_signature_invalid: 403,
    card_not_found: 404,
    card_token_not_found: 404,
    device_not_found: 404,
    card_exists: 409,
    device_exists: 409,
    card_token_exists: 409,
    card_not_pending: 409,
    request_out_of_order: 409,
    card_token_consumed: 409,
    card_closed: 422,
    card_not_accepted: 422,
    card_devices_full: 422,
    device_removed: 422,
    card_tokens_limit: 422,
    token_count_mismatch: 422,
    amount_mismatch: 422,
    currency_mismatch: 422,
    merchant_mismatch: 422,
    unpredictable_number_mismatch: 422,
    card_token_key_invalid: 422,
    cryptogram_invalid: 422,
    card_token_expired: 422,
    card_suspended: 422,
    card_deleted: 422,
    card_currency_mismatch: 422,
  },
  commands: [...cardsCommands, ...cardDeviceCommands],
  cliNotes:
    'cards link, accept, close, add-device and remove-device send txs; cards mint asks the node for a\n' +
    "batch of card tokens sealed to the device's box key; cards authorise is the acquirer's side;\n" +
    'card-device runs a payment device (its secure element is a file locked by a PIN).',
};
