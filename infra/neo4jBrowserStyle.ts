/**
 * How Neo4j Browser draws Vigil's graph, applied on every connect: the Browser runs the server's
 * `browser.post_connect_cmd`, and `:style <grass>` sets its style. Without it every wallet is
 * captioned "bittensor" (its first property), so a person cannot tell wallets apart.
 *
 * The grass is written as JSON: the Browser's grass parser takes JSON as well, and JSON has no `;`,
 * which the Browser would take as the end of the command.
 */
export const NEO4J_BROWSER_STYLE: Record<string, Record<string, string>> = {
  node: { diameter: '50px', color: '#A5ABB6', 'border-color': '#9AA1AC', 'text-color-internal': '#FFFFFF' },
  // The Browser fits the caption into the circle and cuts it: the address's first characters show.
  'node.Wallet': {
    caption: '{address}',
    diameter: '55px',
    color: '#4C8EDA',
    'border-color': '#2870C2',
    'text-color-internal': '#FFFFFF',
    'font-size': '10px',
  },
  'node.Contract': {
    caption: '{address}',
    color: '#8DCC93',
    'border-color': '#5DB665',
    'text-color-internal': '#2A2C34',
  },
  'node.Alert': {
    caption: '{severity}',
    diameter: '60px',
    color: '#F16667',
    'border-color': '#EB2728',
    'text-color-internal': '#FFFFFF',
  },
  'node.Invariant': {
    caption: '{kind}',
    color: '#FFC454',
    'border-color': '#D7A013',
    'text-color-internal': '#2A2C34',
  },
  'node.Transaction': {
    caption: '{hash}',
    color: '#D9C8AE',
    'border-color': '#C0A378',
    'text-color-internal': '#2A2C34',
  },
  'node.Submission': {
    caption: '{miner}',
    color: '#C990C0',
    'border-color': '#B261A5',
    'text-color-internal': '#FFFFFF',
  },
  'node.DefenseAction': {
    caption: '{kind}',
    color: '#F79767',
    'border-color': '#F36924',
    'text-color-internal': '#FFFFFF',
  },
  relationship: {
    caption: '<type>',
    color: '#A5ABB6',
    'shaft-width': '2px',
    'font-size': '8px',
    padding: '3px',
  },
};

/** The value of Neo4j's `browser.post_connect_cmd` (the Browser adds the leading colon). */
export function neo4jBrowserPostConnectCmd(style = NEO4J_BROWSER_STYLE): string {
  return `style ${JSON.stringify(style)}`;
}
