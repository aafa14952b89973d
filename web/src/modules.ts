import { pages as cards } from '../../src/modules/cards/web/index.js';
import { pages as conversion } from '../../src/modules/conversion/web/index.js';
import { pages as crowdfund } from '../../src/modules/crowdfund/web/index.js';
import { pages as iot } from '../../src/modules/iot/web/index.js';
import { pages as licensing } from '../../src/modules/licensing/web/index.js';
import { pages as printing } from '../../src/modules/printing/web/index.js';
import { pages as scholarship } from '../../src/modules/scholarship/web/index.js';
import { pages as timecredits } from '../../src/modules/timecredits/web/index.js';
import type { ModulePages } from './module-pages.js';

/* The modules' console pages, one line each (src/modules/<name>/web/index.tsx). */

export const modulePages: ModulePages[] = [
  timecredits,
  crowdfund,
  cards,
  conversion,
  iot,
  licensing,
  scholarship,
  printing,
];
