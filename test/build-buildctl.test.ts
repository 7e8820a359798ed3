/**
 * `dockwright build --builder buildctl` with a stand-in buildctl that records its arguments and
 * standard input (no BuildKit daemon runs here); and no reuse through the build index, which is no
 * proof that the image still exists.
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

async function setup(extra: string[] = []) {
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
    ...extra,
  ].join("\n"));
  // Records one argument per line (none holds a newline here) and standard input.
  const buildctl = path.join(scratch, "buildctl");
  await rm(path.join(scratch, "calls"), { recursive: true, force: true });
  await writeFile(buildctl, `#!/bin/sh\n[ "$1" = --version ] && exit 0\nlog=${scratch}/calls\nmkdir -p "$log"\nn=$(ls "$log" | wc -l)\nprintf '%s\\n' "$@" > "$log/$n.args"\ncat > "$log/$n.stdin"\n`);
  await chmod(buildctl, 0o755);
  return { root, buildctl };
}

function io(stdout: string[], stderr: string[]): Io {
  return { cwd: scratch, env: process.env, stdout: (t) => void stdout.push(t), stderr: (t) => void stderr.push(t), stderrIsTTY: false };
}

it("pipes llb.pb to buildctl with each local source and the image config; builds again without a registry to ask", async () => {
  const { root, buildctl } = await setup();
  const out = path.join(scratch, "out");
  const args = ["training.yaml", "--builder", "buildctl", "--buildctl", buildctl, "--root", root, "--out", out, "--addr", "tcp://127.0.0.1:1234", "--no-resolve"];
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
  // BuildKit's store cannot be asked whether it still holds the image, and no registry is named.
  expect(again.join("")).toContain("zenml:training-orchestrator: built with buildctl");
  expect(await readFile(path.join(scratch, "calls", "2.args"), "utf8")).toContain("build");
  // The build index still says it was built before.
  expect((await readFile(path.join(out, "plan.json"), "utf8"))).toContain('"reusable": true');
});

it("without --push, a stack registry out of reach is said once, and every image is built", async () => {
  const { root, buildctl } = await setup([
    "steps:",
    "  loader: {}",
    "  trainer: { settings: { docker: { requirements: [numpy==1.26.4, pandas==2.2.2] } } }",
    "stack:",
    "  components: [{ type: container_registry, flavor: default, uri: '127.0.0.1:9/team' }]",
  ]);
  const args = ["training.yaml", "--builder", "buildctl", "--buildctl", buildctl, "--root", root, "--out", path.join(scratch, "out-registry"), "--no-resolve"];
  const stdout: string[] = [];
  const stderr: string[] = [];
  expect(await buildCommand(args, io(stdout, stderr)), stderr.join("")).toBe(0);
  expect(stdout.join("")).toMatch(/^127\.0\.0\.1:9\/team\/zenml:training-orchestrator: built with buildctl$/m);
  expect(stdout.join("")).toMatch(/^127\.0\.0\.1:9\/team\/zenml:training-trainer-orchestrator: built with buildctl$/m);
  const warnings = stderr.join("").split("\n").filter((line) => line.includes("warning:"));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/cannot reach registry 127\.0\.0\.1:9 .*Without --push the registry is only asked whether it holds an image/);

  // For tools, the same warning is an event.
  const events: string[] = [];
  expect(await buildCommand([...args, "--json"], io(events, []))).toBe(0);
  const warned = events.join("").trim().split("\n").map((line) => JSON.parse(line) as { event: string; message?: string }).filter((e) => e.event === "warning");
  expect(warned).toEqual([{ event: "warning", message: expect.stringMatching(/cannot reach registry 127\.0\.0\.1:9 .*every image is built\.$/) }]);

  // With --push the registry is needed, and out of reach it stops the build.
  expect(await buildCommand([...args, "--push"], io([], stderr))).toBe(2);
}, 60_000);
