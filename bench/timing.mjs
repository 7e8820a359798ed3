// Timing shared by the benchmarks: medians, never means (one slow moment of a shared machine
// moves a mean, not a median).
import { performance } from "node:perf_hooks";

/** The median of a list of numbers. */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Runs `fn` `runs` times in turn: the median time in milliseconds, and the last result. */
export async function timed(runs, fn) {
  const times = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = await fn();
    times.push(performance.now() - start);
  }
  return { ms: median(times), result };
}
