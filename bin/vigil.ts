#!/usr/bin/env -S node --import tsx
// chopsticks sets its per-module log levels from LOG_LEVEL when first imported: the demo prints its
// own progress, so quiet the chain's per-block logs there unless the user asked for a level.
if (process.argv[2] === 'demo') process.env.LOG_LEVEL ??= 'warn';
const { main } = await import('../cli/main.ts');

const code = await main(process.argv.slice(2));
// Long-running services return 0 and keep running; one-shot commands exit with their code.
if (code !== 0) process.exit(code);
