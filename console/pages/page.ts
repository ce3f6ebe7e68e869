import type { FunctionComponent } from 'preact';

/**
 * One page of the console: a module in console/pages/ exporting one of these, listed in
 * console/pages/index.ts (the nav shows them in that order, under their group).
 */
export interface ConsolePage {
  /** The hash route: `#/<id>?…`. */
  id: string;
  /** The nav's label and the page's heading. */
  title: string;
  /** Nav section, e.g. 'Investigate', 'Defense', 'Operate'. */
  group: string;
  /** Gets the route's query parameters; changes them with router.ts `navigate`. */
  component: FunctionComponent<{ params: URLSearchParams }>;
}
