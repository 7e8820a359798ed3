import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { emitLlb } from "@dockwright/emit-llb";
import { afterAll, describe, expect, test } from "vitest";
import { imagePlan } from "../../../../test/support/ir.ts";
import type { Io } from "../io.js";
import { inspectLlbCommand } from "./inspect-llb.js";

const dir = await mkdtemp(path.join(tmpdir(), "inspect-llb-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { cwd: dir, env: {}, stdout: (t) => out.push(t), stderr: (t) => err.push(t), stderrIsTTY: false };
  const code = await inspectLlbCommand(args, io);
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const image = imagePlan([{ kind: "run", purpose: "p", shell: "echo hi" }], {
  key: "k",
  tag: "zenml:k",
  parent: { kind: "image", ref: "python:3.11" },
  context: { generated: [], dockerignore: [], writable: false },
  sources: { mode: "ignore" },
});

describe("dockwright inspect-llb", () => {
  test("prints llb.pb exactly as llb.json", async () => {
    const files = emitLlb(image).files;
    await writeFile(path.join(dir, "llb.pb"), files.find((f) => f.path === "llb.pb")!.contents);
    const result = await run("llb.pb");
    expect(result).toEqual({ code: 0, stdout: files.find((f) => f.path === "llb.json")!.contents, stderr: "" });
  });

  test.each([
    ["missing.pb", /cannot read "missing.pb": it does not exist\./],
    [".", /cannot read "\.": it is a directory\./],
  ])("%s: exit 2 with one paragraph", async (file, message) => {
    const result = await run(file);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  test("a file that is not LLB: exit 2, one paragraph, no stack trace", async () => {
    await writeFile(path.join(dir, "llb.json"), '[{"Op": {}}]\n');
    await writeFile(path.join(dir, "empty.pb"), "");
    for (const file of ["llb.json", "empty.pb"]) {
      const result = await run(file);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^dockwright: "${file.replace(".", "\\.")}" is not a BuildKit LLB definition: .+\\n$`));
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  test("--help, and usage errors", async () => {
    expect((await run("--help")).stdout).toMatch(/^Usage: dockwright inspect-llb FILE/);
    expect((await run()).code).toBe(2);
    expect((await run("a", "b")).stderr).toMatch(/takes one FILE, got 2/);
  });
});
