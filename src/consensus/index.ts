export * from './consensus.js';
export * from './solo.js';
export * from './jetstream/index.js';
