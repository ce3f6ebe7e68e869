// Evaluated before the CLI's modules (import order): chopsticks reads LOG_LEVEL once, when first
// imported, for its per-block logs (see quietChainLogsForDemo).
import { quietChainLogsForDemo } from '../common/config.ts';

quietChainLogsForDemo(process.argv);
