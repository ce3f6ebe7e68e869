/**
 * A queue that runs the work given to it one at a time, in call order. Each call's promise
 * settles with its own work; a failure is that caller's and does not stop the work queued after.
 */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = tail.then(work);
    tail = run.catch(() => {});
    return run;
  };
}
