#!/usr/bin/env -S node --import tsx
import './quietChain.ts';
import { main } from '../cli/main.ts';

const code = await main(process.argv.slice(2));
// Long-running services return 0 and keep running; one-shot commands exit with their code.
if (code !== 0) process.exit(code);
