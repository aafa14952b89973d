import { concatBytes, fromHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';

/**
 * Domain separation for everything Coffer signs: a signature made for one purpose can never be
 * replayed as another. The signed message is the domain tag followed by a 32-byte hash.
 */
export const signingDomains = {
  tx: 'coffer/tx/v1',
  /** v2: headers carry txCount (docs/protocol.md). */
  block: 'coffer/block/v2',
  /**
   * A coordinator's authorization of a time-credit issuance that another account relays (the
   * node's issuance service): the hash is `issuanceRequestHash` of the timecredits module.
   */
  issuanceRequest: 'coffer/timecredits/issuance-request/v1',
  /** A cluster validator's statement of (chain, height, block hash, state root). */
  attestation: 'coffer/cluster/attestation/v1',
  /**
   * A token-vault participant's signed request (provision, PAN update, detokenisation) that the
   * node relays: the hash is `tokenRequestHash` of the tokens module.
   */
  tokenRequest: 'coffer/tokens/request/v1',
  /**
   * A card device's or card participant's signed request (a device's box key, a token batch, an
   * acquirer's authorisation): the hash is `cardRequestHash` of the cards module.
   */
  cardRequest: 'coffer/cards/request/v1',
  /**
   * A conversion engine's quote (rate, amounts, route, expiry) as it gives it: the hash is
   * `quoteHash` of the conversion module, so a user holds the engine to what it quoted.
   */
  conversionQuote: 'coffer/conversion/quote/v1',
  /**
   * An IoT device's or service device's signed message (an authorisation, a session start, a
   * bill, a session end), signed with its certificate's key: the hash is `iotRequestHash` of the
   * iot module.
   */
  iotRequest: 'coffer/iot/request/v1',
} as const;

const encodedDomains = {
  tx: utf8(signingDomains.tx),
  block: utf8(signingDomains.block),
  issuanceRequest: utf8(signingDomains.issuanceRequest),
  attestation: utf8(signingDomains.attestation),
  tokenRequest: utf8(signingDomains.tokenRequest),
  cardRequest: utf8(signingDomains.cardRequest),
  conversionQuote: utf8(signingDomains.conversionQuote),
  iotRequest: utf8(signingDomains.iotRequest),
};

export function signingMessage(
  domain: keyof typeof signingDomains,
  hash: Uint8Array | string,
): Uint8Array {
  const bytes = typeof hash === 'string' ? fromHex(hash, 'hash', 32) : hash;
  if (bytes.length !== 32) throw new CryptoInputError('hash', 'expected 32 bytes');
  return concatBytes(encodedDomains[domain], bytes);
}
