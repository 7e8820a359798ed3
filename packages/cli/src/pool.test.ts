import { describe, expect, test } from "vitest";
import { runPool } from "./pool.js";

/** A task that waits until released, recording when it started and whether it saw the abort. */
function harness() {
  const log: string[] = [];
  const release = new Map<string, (ok: boolean) => void>();
  let running = 0;
  let most = 0;
  const work = (task: { key: string }, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
    running++;
    most = Math.max(most, running);
    log.push(`start ${task.key}`);
    let settled = false;
    signal.addEventListener("abort", () => {
      if (settled) return;
      settled = true;
      log.push(`abort ${task.key}`);
      running--;
      reject(new Error("aborted"));
    });
    release.set(task.key, (ok) => {
      settled = true;
      running--;
      log.push(`${ok ? "done" : "fail"} ${task.key}`);
      if (ok) resolve();
      else reject(new Error(`${task.key} failed`));
    });
  });
  const settle = async (key: string, ok = true) => {
    for (let i = 0; !release.has(key); i++) {
      if (i > 100) throw new Error(`${key} never started: ${log.join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    release.get(key)!(ok);
  };
  return { log, work, settle, most: () => most };
}

describe("the build pool", () => {
  test("runs at most N at once, an image after the one it builds on", async () => {
    const h = harness();
    const tasks = [{ key: "a" }, { key: "b.intermediate" }, { key: "b", after: "b.intermediate" }, { key: "c" }];
    const done = runPool(tasks, 2, h.work);
    await h.settle("a");
    await h.settle("b.intermediate");
    await h.settle("c");
    await h.settle("b");
    expect(await done).toBeUndefined();
    expect(h.most()).toBe(2);
    // b waited for its parent although a slot was free before c.
    expect(h.log.indexOf("start b")).toBeGreaterThan(h.log.indexOf("done b.intermediate"));
    expect(h.log.filter((line) => line.startsWith("start"))).toHaveLength(4);
  });

  test("the first failure stops the others, starts nothing more, and names the image", async () => {
    const h = harness();
    const tasks = [{ key: "a" }, { key: "b" }, { key: "c" }, { key: "d", after: "a" }];
    const done = runPool(tasks, 2, h.work);
    await h.settle("b", false);
    const failure = await done;
    expect(failure?.task.key).toBe("b");
    expect((failure?.error as Error).message).toBe("b failed");
    expect(h.log).toEqual(["start a", "start b", "fail b", "abort a"]);
  });
});
