export * from './amount.js';
export * from './rejections.js';
export * from './records.js';
export * from './ledger.js';
export * from './invariants.js';
