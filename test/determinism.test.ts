/**
 * Determinism: the built CLI (`npx tsc -b packages/cli` first) compiles the same input to the same
 * bytes, every output file of every backend (llb.pb and code archives included), when run from
 * another working directory (with paths relative to it), in another time zone and locale, under
 * another umask, and with another libuv thread pool size, which changes the order in which
 * concurrent file system calls complete.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";

const repo = path.dirname(import.meta.dirname);
const cli = path.join(repo, "packages/cli/dist/bin.js");
const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-determinism-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

type Input = { name: string; config: string; root: string; options: Record<string, string> };

const fixture = (name: string): Input => {
  const dir = path.join(repo, "test/fixtures", name);
  const options = existsSync(path.join(dir, "options.json")) ? JSON.parse(readFileSync(path.join(dir, "options.json"), "utf8")) : {};
  return { name, config: path.join(dir, "run.yaml"), root: existsSync(path.join(dir, "root")) ? path.join(dir, "root") : dir, options };
};

/** The example and fixtures that cover every backend, both parents, contexts, archives, commands and secrets. */
const inputs: Input[] = [
  { name: "example", config: path.join(repo, "examples/training-pipeline/training.yaml"), root: path.join(repo, "examples/training-pipeline"), options: {} },
  ...["sources-dockerignore", "sources-artifact-store", "dockerfile-parent", "local-environment", "build-secrets", "stack-components", "tensorflow-py312"].map(fixture),
];

type Variant = { cwd: string; umask: string; env: Record<string, string> };

const variants: Variant[] = [
  { cwd: path.join(scratch, "a"), umask: "022", env: { TZ: "UTC", LANG: "C", LC_ALL: "C", UV_THREADPOOL_SIZE: "1" } },
  // Turkish folds `i` differently, Chatham is UTC+12:45, a deep working directory, a tight umask.
  { cwd: path.join(scratch, "b", "deeper", "still"), umask: "077", env: { TZ: "Pacific/Chatham", LANG: "tr_TR.UTF-8", LC_ALL: "tr_TR.UTF-8", UV_THREADPOOL_SIZE: "64" } },
];

const run = promisify(execFile);

/** Compiles with the CLI in a child process; config, root and output given relative to its working directory. */
async function compile(input: Input, variant: Variant, out: string): Promise<void> {
  await mkdir(variant.cwd, { recursive: true });
  const relative = (p: string) => path.relative(variant.cwd, p);
  const flags = Object.entries({ python: input.options["python"], platform: input.options["platform"], "zenml-version": input.options["zenmlVersion"] })
    .flatMap(([flag, value]) => (value === undefined ? [] : [`--${flag}`, value]));
  const args = [cli, "compile", relative(input.config), "--root", relative(input.root), "--out", relative(out), ...flags];
  await run("/bin/sh", ["-c", `umask ${variant.umask} && exec "$@"`, "sh", process.execPath, ...args], {
    cwd: variant.cwd,
    env: { PATH: process.env["PATH"]!, HOME: scratch, ...variant.env },
  });
}

async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`])));
  return nested.flat().sort();
}

describe("the same input gives the same bytes", () => {

  test.each(inputs)("$name", async (input) => {
    expect(existsSync(cli), `${cli} is missing: run \`npx tsc -b packages/cli\` first`).toBe(true);
    // The same output folder for both runs: paths under it may appear in the outputs.
    const out = path.join(scratch, "out", input.name);
    const trees: Map<string, Buffer>[] = [];
    for (const variant of variants) {
      await rm(out, { recursive: true, force: true });
      await compile(input, variant, out);
      const files = await filesUnder(out);
      trees.push(new Map(await Promise.all(files.map(async (f) => [f, await readFile(path.join(out, f))] as const))));
    }
    const [first, second] = trees as [Map<string, Buffer>, Map<string, Buffer>];
    expect([...second.keys()]).toEqual([...first.keys()]);
    expect([...first.keys()].some((f) => f.endsWith("llb.pb") || f.endsWith("Dockerfile"))).toBe(true);
    for (const [file, bytes] of first) expect(second.get(file)?.equals(bytes), file).toBe(true);
  });
});
