export * from './finality.js';
export * from './jetstream.js';
export * from './pool.js';
export * from './wire.js';
