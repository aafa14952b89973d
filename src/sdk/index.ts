export * from './keys.js';
export * from './tx.js';
export * from './client.js';
export * from './errors.js';
export * from './events.js';
export { formatUnits, parseUnits } from '../ledger/amount.js';
export * from './verify.js';
export * from './light-client.js';
// The modules' parts of the SDK: src/modules/<name>/client.ts, listed in src/modules/clients.ts.
export * from '../modules/clients.js';
/** What SDK functions throw for an argument they cannot use; `field` names it. */
export { CryptoInputError } from '../crypto/index.js';
