export { CryptoInputError } from './errors.js';
export { bytesEqual, concatBytes, fromHex, toHex, utf8 } from './bytes.js';
export { sha256, sha256Hex } from './hash.js';
export { canonicalBytes, canonicalize } from './canonical.js';
export { generateKeyPair, keyPairFromSecret, sign, verify, type KeyPair } from './keys.js';
export {
  ADDRESS_PREFIX,
  addressFromPublicKey,
  deriveAddress,
  isAddress,
  publicKeyFromAddress,
} from './address.js';
export { inclusionProof, leafHash, merkleRoot, nodeHash, verifyInclusion } from './merkle.js';
export { VerifyPool, type SignatureCheck } from './verify-pool.js';
export { signingDomains, signingMessage } from './domains.js';
