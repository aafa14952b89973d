export * from './consensus.js';
export * from './solo.js';
