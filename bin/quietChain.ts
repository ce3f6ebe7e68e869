// Evaluated before the CLI's modules (import order): chopsticks reads LOG_LEVEL once, when first
// imported, for its per-block logs. The demo prints its own progress lines, so it quiets them
// unless a level was asked for.
if (process.argv[2] === 'demo' && !process.env.LOG_LEVEL) process.env.LOG_LEVEL = 'warn';
