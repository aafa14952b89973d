export * from './view.js';
export * from './root.js';
export * from './store.js';
export * from './sqlite-store.js';
export * from './parsed-records.js';
