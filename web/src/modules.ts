import type { ModulePages } from './module-pages.js';

/* The modules' console pages, one line each (src/modules/<name>/web/index.tsx). */

export const modulePages: ModulePages[] = [];
