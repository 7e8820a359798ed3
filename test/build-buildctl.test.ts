/**
 * `dockwright build --builder buildctl` with a stand-in buildctl that records its arguments and
 * standard input (no BuildKit daemon runs here); and build reuse through the build index.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { decodeDefinition } from "@dockwright/emit-llb";
import { afterAll, expect, it } from "vitest";
import { buildCommand } from "../packages/cli/src/commands/build.ts";
import type { Io } from "../packages/cli/src/io.ts";

const scratch = await mkdtemp(path.join(tmpdir(), "dockwright-buildctl-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function setup() {
  const root = path.join(scratch, "root");
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, "app.py"), "print('hi')\n");
  await writeFile(path.join(scratch, "training.yaml"), [
    "settings:",
    "  docker:",
    "    parent_image: python:3.11-slim",
    "    requirements: [numpy==1.26.4]",
    "    environment: { greeting: 'say \"hi\", then bye' }",
    "    allow_including_files_in_images: true",
    "    allow_download_from_code_repository: false",
    "    allow_download_from_artifact_store: false",
  ].join("\n"));
  // Records one argument per line (none holds a newline here) and standard input.
  const buildctl = path.join(scratch, "buildctl");
  await writeFile(buildctl, `#!/bin/sh\n[ "$1" = --version ] && exit 0\nlog=${scratch}/calls\nmkdir -p "$log"\nn=$(ls "$log" | wc -l)\nprintf '%s\\n' "$@" > "$log/$n.args"\ncat > "$log/$n.stdin"\n`);
  await chmod(buildctl, 0o755);
  return { root, buildctl };
}

function io(stdout: string[], stderr: string[]): Io {
  return { cwd: scratch, env: process.env, stdout: (t) => void stdout.push(t), stderr: (t) => void stderr.push(t), stderrIsTTY: false };
}

it("pipes llb.pb to buildctl with each local source and the image config, then reuses the build", async () => {
  const { root, buildctl } = await setup();
  const out = path.join(scratch, "out");
  const args = ["training.yaml", "--builder", "buildctl", "--buildctl", buildctl, "--root", root, "--out", out, "--addr", "tcp://127.0.0.1:1234"];
  const stdout: string[] = [];
  const stderr: string[] = [];
  expect(await buildCommand(args, io(stdout, stderr)), stderr.join("")).toBe(0);
  expect(stdout.join("")).toContain("zenml:training-orchestrator: built with buildctl");

  const argv = (await readFile(path.join(scratch, "calls", "0.args"), "utf8")).trimEnd().split("\n");
  const stdin = await readFile(path.join(scratch, "calls", "0.stdin"));
  expect(stdin.equals(await readFile(path.join(out, "orchestrator", "llb.pb")))).toBe(true);
  expect(decodeDefinition(stdin).length).toBeGreaterThan(2);
  expect(argv.slice(0, 3)).toEqual(["--addr", "tcp://127.0.0.1:1234", "build"]);
  const locals = argv.flatMap((a, i) => (argv[i - 1] === "--local" ? [a.split("=")[0]] : []));
  expect(locals.sort()).toEqual(["context", "generated"]);
  expect(argv).toContain(`generated=${path.join(out, "orchestrator")}`);
  const output = argv[argv.indexOf("--output") + 1]!;
  const config = JSON.parse(await readFile(path.join(out, "orchestrator", "image-config.json"), "utf8"));
  // One CSV record: the config field quoted, its quotes doubled.
  expect(output).toBe(`type=image,name=zenml:training-orchestrator,"containerimage.config=${JSON.stringify(config).replaceAll('"', '""')}"`);

  const again: string[] = [];
  expect(await buildCommand(args, io(again, stderr))).toBe(0);
  expect(again.join("")).toContain("zenml:training-orchestrator: reused, built before with checksum sha256:");
  expect((await readFile(path.join(out, "plan.json"), "utf8"))).toContain('"reusable": true');
});
