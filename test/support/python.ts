/**
 * Python's own libraries as oracles: one long-lived python3 process runs a script that answers
 * each JSON line on its standard input with a JSON line. It runs with no environment but PATH
 * (so, for one, pip expands no `${VAR}`). Under `CI=true` a missing python3 or module fails the
 * caller instead of being skipped (`need`).
 */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll } from "vitest";
import { toolPath } from "./tools.ts";

export type Oracle = (question: unknown) => Promise<unknown>;

/**
 * `script` defines `answer(question)`; `modules` must import. The oracle, or what is missing.
 * The process ends after the test file.
 */
export function pythonOracle(script: string, modules: string[]): Oracle | { missing: string } {
  const python = toolPath("python3");
  if (!python) return { missing: "python3 (apt-get install python3 python3-pip)" };
  const env = { PATH: process.env["PATH"] ?? "", PYTHONUTF8: "1" };
  if (spawnSync(python, ["-c", modules.map((m) => `import ${m}`).join("; ")], { env }).status !== 0) {
    return { missing: `the Python modules ${modules.join(", ")} (apt-get install python3-pip)` };
  }
  const loop = "\nimport json, sys\nfor line in sys.stdin:\n    print(json.dumps(answer(json.loads(line))), flush=True)\n";
  const child = spawn(python, ["-c", script + loop], { env, stdio: ["pipe", "pipe", "inherit"] });
  afterAll(() => void child.stdin.end());
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  // One question at a time: answers come back in order.
  let queue: Promise<unknown> = Promise.resolve();
  return (question) => {
    const answer = queue.then(async () => {
      child.stdin.write(`${JSON.stringify(question)}\n`);
      return JSON.parse(String((await answers.next()).value)) as unknown;
    });
    queue = answer;
    return answer;
  };
}

/** The oracle, or: under CI=true an error naming what is missing, else undefined (the check is skipped). */
export function need(oracle: Oracle | { missing: string }): Oracle | undefined {
  if (typeof oracle === "function") return oracle;
  if (process.env["CI"] === "true") throw new Error(`CI=true, but the tests need ${oracle.missing}. Run scripts/provision.sh as root.`);
  return undefined;
}
