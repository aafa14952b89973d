import type { ModulePages } from '../../../../web/src/module-pages.js';
import { PrintPage } from './print-page.js';
import { PrintersPage } from './printers-page.js';
import { StorePage } from './store-page.js';

/*
 * 3D printing in the console (issue 23): the design store with a buy for one of this browser's
 * wallet's printers (store-page.tsx); an owner's printers and the prints it bought
 * (printers-page.tsx); one print's progress, read again every second while it runs
 * (print-page.tsx).
 */

export const pages: ModulePages = {
  section: { href: '/printing', label: 'Printing' },
  routes: [
    ['/printing', () => <StorePage />],
    ['/printing/printers', () => <PrintersPage />],
    ['/printing/prints/:tokenId', (p) => <PrintPage tokenId={p.tokenId!} />],
  ],
};
