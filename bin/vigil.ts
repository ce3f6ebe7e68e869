#!/usr/bin/env -S node --import tsx
// chopsticks reads LOG_LEVEL once, when first imported, for its per-block logs. The demo prints
// its own progress lines, so it quiets them unless a level was asked for.
if (process.argv[2] === 'demo') process.env.LOG_LEVEL ??= 'warn';
const { main } = await import('../cli/main.ts');

const code = await main(process.argv.slice(2));
// Long-running services return 0 and keep running; one-shot commands exit with their code.
if (code !== 0) process.exit(code);
