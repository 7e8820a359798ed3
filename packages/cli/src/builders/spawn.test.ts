import { expect, test } from "vitest";
import { mustRun, runTool } from "./spawn.js";

test("a tool's standard output goes to the log, and is kept for the result only when asked", async () => {
  const logged: string[] = [];
  const options = { env: process.env, cwd: "/", log: (text: string) => logged.push(text) };
  expect(await runTool("sh", ["-c", "echo built"], options)).toEqual({ code: 0, stdout: "" });
  expect(await mustRun("sh", ["-c", "echo digest: sha256:x"], { ...options, keepStdout: true }, "push")).toBe("digest: sha256:x\n");
  expect(logged.join("")).toBe("built\ndigest: sha256:x\n");
});
