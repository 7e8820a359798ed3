import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { emitLlb } from "@dockwright/emit-llb";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { imagePlan } from "../../../../test/support/ir.ts";
import { buildctlArgs, buildWithBuildctl, type BuildctlBuild } from "./buildctl.js";
import type { ToolRun } from "./spawn.js";

const dir = await mkdtemp(path.join(tmpdir(), "buildctl-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const image = imagePlan([
  { kind: "env", vars: [["GREETING", [`say "hi", then 'bye'`]]] },
  { kind: "requirements", origin: "user", file: ".zenml_user_requirements", dest: "/app/.zenml_user_requirements", installer: { tool: "pip", args: [], noCache: true }, secrets: [], lines: [] },
  { kind: "sources" },
], {
  key: "training",
  tag: "zenml:training",
  parent: { kind: "image", ref: "python:3.11" },
  config: { labels: [["a,b", 'quote "q"']] },
});

const folder = path.join(dir, "out", "training");
const bin = path.join(dir, "bin");
const record = path.join(dir, "record");

beforeAll(async () => {
  await mkdir(folder, { recursive: true });
  for (const file of emitLlb(image).files) await writeFile(path.join(folder, file.path), file.contents);
  // A stand-in buildctl: records its arguments (one per line, NUL-separated) and standard input.
  await mkdir(bin);
  await writeFile(path.join(bin, "buildctl"),
    `#!/bin/sh\nprintf '%s\\0' "$@" > ${record}.args\ncat > ${record}.stdin\necho progress >&2\nexit "\${FAKE_EXIT:-0}"\n`, { mode: 0o755 });
});

function io(env: Record<string, string> = {}) {
  const stderr: string[] = [];
  const value: ToolRun = { cwd: dir, env: { PATH: `${bin}:${process.env["PATH"]}`, ...env }, log: (t) => stderr.push(t) };
  return { io: value, stderr };
}

/** A CSV record as buildctl reads `--output` (Go's encoding/csv). */
function parseCsv(text: string): string[] {
  const fields: string[] = [];
  const re = /(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g;
  for (const m of text.matchAll(re)) fields.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!);
  return fields;
}

const build: BuildctlBuild = {
  folder,
  locals: { context: "/src/root", generated: folder },
  output: { type: "oci", dest: "/tmp/out, with comma.tar" },
};

describe("buildctl", () => {
  test("pipes llb.pb to `buildctl build` with the local sources and the image config as exporter attribute", async () => {
    const { io: value, stderr } = io();
    await buildWithBuildctl("buildctl", build, value, "build zenml:training");
    expect(stderr.join("")).toBe("progress\n");
    const args = (await readFile(`${record}.args`, "utf8")).split("\0").slice(0, -1);
    expect(await readFile(`${record}.stdin`)).toEqual(await readFile(path.join(folder, "llb.pb")));
    const config = await readFile(path.join(folder, "image-config.json"), "utf8");
    expect(args).toEqual([
      "build",
      "--local", `generated=${folder}`,
      "--local", "context=/src/root",
      "--output", `type=oci,"dest=/tmp/out, with comma.tar","containerimage.config=${JSON.stringify(JSON.parse(config)).replaceAll('"', '""')}"`,
    ]);
    const fields = parseCsv(args.at(-1)!);
    expect(fields.slice(0, 2)).toEqual(["type=oci", "dest=/tmp/out, with comma.tar"]);
    expect(JSON.parse(fields[2]!.slice("containerimage.config=".length))).toEqual(JSON.parse(config));
  });

  test("an image name, push, and the daemon address", () => {
    expect(buildctlArgs({ ...build, output: { type: "image", name: "reg.io/zenml:training", push: true }, addr: "tcp://buildkitd:1234" }, ["context"], '{"os": "linux"}')).toEqual([
      "--addr", "tcp://buildkitd:1234",
      "build",
      "--local", "context=/src/root",
      "--output", 'type=image,name=reg.io/zenml:training,push=true,"containerimage.config={""os"":""linux""}"',
    ]);
  });

  test("--no-cache when asked", () => {
    expect(buildctlArgs({ ...build, noCache: true }, ["context"], "{}")).toContain("--no-cache");
    expect(buildctlArgs(build, ["context"], "{}")).not.toContain("--no-cache");
  });

  test("build secrets are passed as --secret from a variable or a file, each one CSV record", () => {
    const secrets = [
      { id: "netrc", source: { file: "/home/me/.netrc" } },
      { id: "index.token", source: { env: "INDEX_TOKEN" } },
      { id: "odd", source: { file: 'dir, with "quotes"/x=y' } },
    ];
    const args = buildctlArgs({ ...build, secrets }, ["context"], "{}");
    expect(args.slice(3, 9)).toEqual([
      "--secret", "id=netrc,src=/home/me/.netrc",
      "--secret", "id=index.token,env=INDEX_TOKEN",
      "--secret", 'id=odd,"src=dir, with ""quotes""/x=y"',
    ]);
    // As buildctl parses them: CSV, then each field cut at its first "=".
    expect(parseCsv(args[8]!)).toEqual(["id=odd", 'src=dir, with "quotes"/x=y']);
    expect(args.indexOf("--output")).toBe(9);
  });

  test("a failed build throws with the build tool's exit code", async () => {
    await expect(buildWithBuildctl("buildctl", build, io({ FAKE_EXIT: "3" }).io, "build zenml:training"))
      .rejects.toMatchObject({ name: "ToolFailed", exitCode: 3, started: true, message: "buildctl failed to build zenml:training (exit code 3); its output is above." });
  });

  test("a buildctl that does not start throws as not started, like every other build tool", async () => {
    await expect(buildWithBuildctl(path.join(dir, "no-such-buildctl"), build, io().io, "build zenml:training"))
      .rejects.toMatchObject({ name: "ToolFailed", started: false, message: expect.stringMatching(/cannot run ".*no-such-buildctl" \(ENOENT\) to build zenml:training: is it installed\?/) });
  });

  test("a local source without a directory is a programming error", () => {
    expect(() => buildctlArgs({ ...build, locals: {} }, ["context"], "{}")).toThrow(/local:\/\/context/);
  });
});
