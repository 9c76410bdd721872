/** Which of `promises` have resolved so far: a live array of flags, for tests that hold I/O open. */
export function settledFlags(promises: readonly Promise<unknown>[]): boolean[] {
  const done = promises.map(() => false);
  for (const [i, p] of promises.entries()) {
    p.then(
      () => {
        done[i] = true;
      },
      () => undefined,
    );
  }
  return done;
}
