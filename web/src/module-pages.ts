import type { ComponentChildren } from 'preact';

/*
 * What a module adds to the console: a section in the header and its routes. Each module keeps
 * its pages in its own folder (src/modules/<name>/web/index.tsx, exporting `pages`), and
 * web/src/modules.ts lists them, one line each, as src/modules/clients.ts lists their SDK parts.
 */

export type Render = (params: Record<string, string>) => ComponentChildren;

export interface ModulePages {
  /** The header link: where the module's first page is and what it is called. */
  section: { href: string; label: string };
  /** Path patterns (segments, `:name` for a parameter) and what each shows. */
  routes: [pattern: string, render: Render][];
}
