/**
 * Resource limits: the built CLI (`npx tsc -b packages/cli` first), in a child process with a
 * capped heap and a deadline, either compiles a huge or hostile input or refuses it with a
 * message; it never runs out of memory, overflows the stack or hangs.
 *
 * The normal run uses a 1 MiB requirements file, a 20,000-line include and 20,000 duplicate
 * lines; `DOCKWRIGHT_LIMITS=full` uses 4 MiB (the most the resolver reads; about 10 s and 450 MB
 * here), a 130,000-line include and 80,000 duplicates. Every case runs with a 512 MB heap.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";

const repo = path.dirname(import.meta.dirname);
const cli = path.join(repo, "packages/cli/dist/bin.js");
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-limits-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const full = process.env["DOCKWRIGHT_LIMITS"] === "full";

const base = [
  "settings:",
  "  docker:",
  "    parent_image: python:3.11-slim",
  "    allow_including_files_in_images: false",
  "    allow_download_from_artifact_store: false",
  "    allow_download_from_code_repository: false",
];

type Outcome = { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** Compiles `run.yaml` (and other files) in a folder of its own, with a heap of `heapMb` and a deadline. */
async function compile(name: string, files: Record<string, string>, { heapMb = 512, seconds = 60 } = {}): Promise<Outcome> {
  expect(existsSync(cli), `${cli} is missing: run \`npx tsc -b packages/cli\` first`).toBe(true);
  const root = path.join(scratch, name);
  await mkdir(root, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(root, file), text);
  const result = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, cli, "compile", path.join(root, "run.yaml"), "--root", root, "--out", path.join(scratch, `${name}-out`)], {
    encoding: "utf8",
    timeout: seconds * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Exit 0 (compiled) or 2 (refused with a message), not killed by the deadline or the heap limit. */
function bounded(outcome: Outcome): void {
  expect(outcome.signal, "killed at the deadline").toBeNull();
  expect([0, 2], outcome.stderr.slice(-2000)).toContain(outcome.status);
  expect(outcome.stderr).not.toMatch(/heap out of memory|Maximum call stack|\n\s+at /);
}

describe("huge and hostile inputs end within bounds", () => {
  const requirements = (file: string) => [...base, `    requirements: ${file}`, ""].join("\n");

  // Issue 13, defect 8: a 4 MiB file ran past 300 s and took 1.6 GB.
  test(`a requirements file of ${full ? 4 : 1} MiB`, { timeout: 300_000 }, async () => {
    const target = (full ? 4 : 1) * 1024 * 1024 - 1024;
    const lines: string[] = [];
    for (let size = 0, i = 0; size < target; i++) {
      lines.push(`package-${i}==1.${i % 100}.${i}`);
      size += lines.at(-1)!.length + 1;
    }
    const outcome = await compile("requirements", { "run.yaml": requirements("requirements.txt"), "requirements.txt": `${lines.join("\n")}\n` }, { seconds: 240 });
    bounded(outcome);
    expect(outcome.status).toBe(0);
  });

  // Issue 13, defect 8: a 130,000-line include overflowed the stack, and 80,000 duplicates took 122 s.
  test(`a ${full ? "130,000" : "20,000"}-line -r include, and ${full ? "80,000" : "20,000"} duplicate lines`, { timeout: 300_000 }, async () => {
    const included = Array.from({ length: full ? 130_000 : 20_000 }, (_, i) => `p${i}==1.0`).join("\n");
    const include = await compile("include", { "run.yaml": requirements("requirements.txt"), "requirements.txt": "-r big.txt\n", "big.txt": `${included}\n` }, { seconds: 120 });
    bounded(include);
    expect(include.status).toBe(0);
    const duplicates = await compile("duplicates", { "run.yaml": requirements("requirements.txt"), "requirements.txt": "numpy==1.26.4\n".repeat(full ? 80_000 : 20_000) }, { seconds: 120 });
    bounded(duplicates);
    expect(duplicates.status).toBe(0);
  });

  test("100,000 environment variables", { timeout: 120_000 }, async () => {
    const env = Array.from({ length: 100_000 }, (_, i) => `      VAR_${i}: value-${i}`);
    const outcome = await compile("environment", { "run.yaml": [...base, "    environment:", ...env, ""].join("\n") }, { seconds: 100 });
    bounded(outcome);
    expect(outcome.status).toBe(0);
  });

  test("a 1 MiB environment value: refused by the backends that cannot carry it, with the reason", async () => {
    const outcome = await compile("long-value", { "run.yaml": [...base, "    environment:", `      BIG: ${"x".repeat(1024 * 1024)}`, ""].join("\n") });
    bounded(outcome);
    expect(outcome.status).toBe(2);
    expect(outcome.stderr).toContain("bytes Docker reads");
    expect(outcome.stderr).toContain("bytes Linux passes to a process");
  });

  test("YAML nested 100,000 levels deep, and an alias bomb", async () => {
    const deep = await compile("deep", { "run.yaml": `settings: {docker: {environment: ${"[".repeat(100_000)}${"]".repeat(100_000)}}}\n` });
    bounded(deep);
    expect(deep.stderr).toContain("it nests deeper than 64 levels");
    const laughs = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++) laughs.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
    const bomb = await compile("aliases", { "run.yaml": `${laughs.join("\n")}\n${base.join("\n")}\n` });
    bounded(bomb);
    expect(bomb.stderr).toContain("Excessive alias count");
  });

  // Found by this suite: comment stripping and marker splitting were quadratic in a run of blanks.
  test("a requirement line with a long run of spaces takes linear time", { timeout: 30_000 }, async () => {
    const outcome = await compile("spaces", { "run.yaml": [...base, "    requirements: requirements.txt", ""].join("\n"), "requirements.txt": `numpy${" ".repeat(100_000)}\n` },
      { seconds: 5 });
    bounded(outcome);
  });
});
