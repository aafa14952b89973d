export { CryptoInputError } from './errors.js';
export { bytesEqual, concatBytes, fromHex, toHex, utf8 } from './bytes.js';
export { sha256, sha256Hex } from './hash.js';
export { canonicalBytes, canonicalize } from './canonical.js';
export {
  generateKeyPair,
  isWeakPublicKey,
  keyPairFromSecret,
  sign,
  verify,
  type KeyPair,
} from './keys.js';
export {
  ADDRESS_PREFIX,
  addressFromPublicKey,
  deriveAddress,
  isAddress,
  publicKeyFromAddress,
} from './address.js';
export {
  inclusionProof,
  inclusionProofs,
  leafHash,
  merkleRoot,
  nodeHash,
  verifyInclusion,
} from './merkle.js';
export { signingDomains, signingMessage } from './domains.js';
export {
  accountableDomains,
  accountableMessageBytesMax,
  accountableSignedMessage,
  bytesToScalar,
  chainIdBytesMax,
  challenge,
  deriveAccountableKey,
  extractSecret,
  heightBytes,
  isAccountablePublicKey,
  nonceFor,
  scalarToBytes,
  secretKeyBytes,
  signAtHeight,
  verifyAtHeight,
  type AccountableKey,
  type AccountableSignature,
  type HeightNonce,
} from './accountable.js';
export {
  commitInfo,
  encryptHiddenInfo,
  hiddenInfoBytesMax,
  hiddenInfoCiphertextBytesMax,
  hiddenInfoDomains,
  revealHiddenInfo,
  type HiddenInfo,
  type RevealedInfo,
} from './hidden-info.js';
export {
  commitNonces,
  nonceCommitmentCountMax,
  nonceCommitmentDomains,
  nonceProof,
  nonceProofMatchesSignature,
  verifyNonceProof,
  type NonceCommitment,
  type NonceProof,
} from './nonce-commitment.js';
