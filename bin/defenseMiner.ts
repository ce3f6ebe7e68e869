/**
 * Entry point of one `vigil defense-miner` process, for launchers that spawn miners directly
 * (the bench): the same command of the CLI's table, configured from the environment.
 */
import { main } from '../cli/main.ts';

main(['defense-miner', ...process.argv.slice(2)]).then((code) => {
  if (code !== 0) process.exit(code);
});
