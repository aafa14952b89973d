export * from './config.js';
export * from './errors.js';
export * from './data-dir.js';
export * from './event-hub.js';
export * from './node.js';
export * from './signing-history.js';
export * from './cluster-init.js';
