import { alertsPage } from './alerts.tsx';
import { casesPage } from './cases.tsx';
import { flowPage } from './flow.tsx';
import { operatorsPage } from './operators.tsx';
import type { ConsolePage } from './page.ts';
import { pathsPage } from './paths.tsx';
import { protocolPage } from './protocol.tsx';
import { walletPage } from './wallet.tsx';

/**
 * The console's pages, in nav order. To add one: write console/pages/<name>.tsx exporting a
 * ConsolePage (page.ts), import it here and add it to this list. The first page is the home page.
 */
export const PAGES: ConsolePage[] = [
  walletPage,
  pathsPage,
  flowPage,
  casesPage,
  alertsPage,
  protocolPage,
  operatorsPage,
];
