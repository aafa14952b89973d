export * from './keys.js';
export * from './tx.js';
export * from './client.js';
export * from './errors.js';
export * from './events.js';
export { formatUnits, parseUnits } from '../ledger/amount.js';
export * from './verify.js';
