/**
 * A bounded pool over a plan's images: at most `jobs` at once, each after the image it builds on.
 * The first failure stops the rest: no new image starts, and the running ones are aborted (their
 * tools get SIGTERM); the pool settles once every started task has, and returns that failure.
 */

export type Task = { key: string; after?: string };

export type Failure<T> = { task: T; error: unknown };

export async function runPool<T extends Task>(tasks: readonly T[], jobs: number, work: (task: T, signal: AbortSignal) => Promise<void>): Promise<Failure<T> | undefined> {
  const stop = new AbortController();
  const keys = new Set(tasks.map((task) => task.key));
  const done = new Set<string>();
  const waiting = [...tasks];
  const running = new Map<string, Promise<void>>();
  let failure: Failure<T> | undefined;

  const ready = (task: T) => task.after === undefined || !keys.has(task.after) || done.has(task.after);
  while (waiting.length > 0 || running.size > 0) {
    while (!failure && running.size < jobs) {
      const next = waiting.findIndex(ready);
      if (next === -1) break;
      const [task] = waiting.splice(next, 1) as [T];
      running.set(task.key, work(task, stop.signal).then(
        () => void done.add(task.key),
        (error: unknown) => {
          // Later failures are the abort of the first one.
          if (!failure) {
            failure = { task, error };
            stop.abort();
          }
        },
      ).finally(() => running.delete(task.key)));
    }
    if (running.size === 0) break; // failed, or only tasks whose parent failed are left
    await Promise.race(running.values());
  }
  return failure;
}
