/**
 * Property: for hostile settings, every build.sh passes `bash -n`, and run by bash with stand-ins
 * for `buildah` and `cp` on PATH that record their arguments, it ends normally and every value
 * arrives as one intact argument: the parent, env values (after buildah's own `$` expansion), the
 * work directory, copies, users, each command as the `/bin/sh -c` operand, its mounts, the tag.
 *
 * Each script costs two bash processes and one stand-in process per buildah call, so this is the
 * slowest of the three suites: it runs every generated script, no sampling.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ImagePlan, ParentImage } from "@dockwright/core";
import { emitBuildah } from "@dockwright/emit-buildah";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { cases } from "./arbitraries.ts";
import { commandsOf, compileCase, parameters, Tally, throughUtf8, timeout } from "./support.ts";

const dir = mkdtempSync(path.join(tmpdir(), "dockwright-buildah-property-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bin = path.join(dir, "bin");
const record = path.join(dir, "calls");
const script = path.join(dir, "build.sh");
/** A context folder whose name needs quoting; nothing reads it, the stand-ins only record it. */
const context = path.join(dir, "con text $(x) 'q'");
const container = "working-container";

mkdirSync(bin);
// One stand-in, installed as `buildah` and `cp`: records its name, argument count and arguments,
// each NUL-terminated; `buildah from` prints a container name, `cp` creates its destination.
const standIn = `#!/bin/sh
{ printf '%s\\0%s\\0' "\${0##*/}" "$#"; if [ "$#" -gt 0 ]; then printf '%s\\0' "$@"; fi; } >> "$DOCKWRIGHT_RECORD"
case "\${0##*/} $1" in
  "buildah from") echo ${container} ;;
  cp\\ *) for last; do :; done; : > "$last" ;;
esac
`;
for (const name of ["buildah", "cp"]) writeFileSync(path.join(bin, name), standIn, { mode: 0o755 });

describe("Buildah script", () => {
  test(`${parameters.numRuns} hostile cases: bash -n, and every value one intact argument when run`, { timeout }, async () => {
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const plan = await compileCase(c);
        if (!plan) return void tally.rejected++;
        tally.compiled++;
        for (const image of plan.images.filter((i) => !i.skipBuild)) checkScript(image);
      }),
      parameters,
    );
    tally.check();
  });
});

type Call = { name: string; args: string[] };

function checkScript(image: ImagePlan): void {
  const artifacts = emitBuildah(image);
  expect(artifacts.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  writeFileSync(script, artifacts.files.find((f) => f.path === "build.sh")!.contents);
  const syntax = spawnSync("bash", ["-n", script], { encoding: "utf8" });
  expect(syntax.stderr).toBe("");
  expect(syntax.status).toBe(0);

  writeFileSync(record, "");
  const userDockerfile = image.parent.kind === "dockerfile";
  // A user Dockerfile's script runs with its default context (the setting's build context root).
  const run = spawnSync("bash", [script, ...(userDockerfile ? [] : [context])], {
    encoding: "utf8",
    cwd: dir,
    env: { ...secretVariables(image), PATH: `${bin}${path.delimiter}${process.env["PATH"]}`, DOCKWRIGHT_RECORD: record },
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const calls = readCalls(readFileSync(record, "utf8"));
  if (image.parent.kind === "dockerfile") checkBud(image, image.parent, calls);
  else checkLayers(image, image.parent, calls);
}

/** The recorded calls: name, count, then that many arguments. */
function readCalls(text: string): Call[] {
  const fields = text.split("\0");
  const calls: Call[] = [];
  for (let i = 0; i < fields.length - 1;) {
    const name = fields[i]!;
    const count = Number(fields[i + 1]);
    calls.push({ name, args: fields.slice(i + 2, i + 2 + count) });
    i += 2 + count;
  }
  return calls;
}

/** A value for each secret read from a variable (`${VAR?}` stops the script without it); PATH stays PATH. */
function secretVariables(image: ImagePlan): Record<string, string> {
  return Object.fromEntries(image.secrets.flatMap((s) => ("env" in s.source ? [[s.source.env, `value of ${s.id}`]] : [])));
}

function checkLayers(image: ImagePlan, parent: Exclude<ParentImage, { kind: "dockerfile" }>, all: Call[]): void {
  // Secret files are copied into the script's private folder, each source path one argument.
  const copies = all.filter((c) => c.name === "cp").map((c) => c.args.at(-2));
  expect(copies).toEqual(image.secrets.flatMap((s) => ("file" in s.source ? [s.source.file] : [])));
  const calls = all.filter((c) => c.name === "buildah").map((c) => c.args);
  const next = () => calls.shift() ?? [];
  expect(next()).toEqual(["from", parent.kind === "image" ? parent.ref : parent.tag]);

  // buildah's view of the image's environment, as `buildah config --env` builds it.
  const env = new Map<string, string>();
  const expected = new Map<string, string>();
  const specs = commandsOf(image, true);
  for (const layer of image.layers) {
    switch (layer.kind) {
      case "workdir":
        expect(next()).toEqual(["copy", "--quiet", container, expect.any(String), layer.path]);
        expect(next()).toEqual(["config", "--workingdir", layer.path, container]);
        break;
      case "env": {
        const config = next();
        expect([config[0], config.at(-1)]).toEqual(["config", container]);
        applyEnv(env, config.slice(1, -1));
        for (const [name, value] of layer.vars) expected.set(name, value);
        break;
      }
      case "requirements":
        expect(next()).toEqual(["copy", "--quiet", container, `${context}/${layer.file}`, layer.dest]);
      // falls through: then the install
      case "apt":
      case "installer":
      case "run": {
        const spec = specs.shift()!;
        const args = next();
        const operands = args.indexOf("--");
        expect(args[0]).toBe("run");
        expect(args.slice(operands - 1)).toEqual([container, "--", "/bin/sh", "-c", spec.shell]);
        const mounts = args.slice(1, operands - 1).map(mountOptions);
        expect(mounts).toEqual([
          ...spec.cacheMounts.map((m) => ({ type: "cache", id: m.id, target: m.target, sharing: m.sharing })),
          // buildah run has no secret mounts: a read-only bind of the file the script filled.
          ...spec.secrets.map((s) => ({ type: "bind", src: expect.stringMatching(new RegExp(`/${s.id.replace(/\./g, "\\.")}$`)), target: s.target, ro: "" })),
        ]);
        break;
      }
      case "sources":
        expect(next()).toEqual(["copy", "--quiet", ...(layer.chown ? ["--chown", layer.chown] : []), container, context, "."]);
        break;
      case "user":
        expect(next()).toEqual(["config", "--user", layer.name, container]);
        break;
    }
  }
  expect(env).toEqual(expected);
  expect(calls).toEqual([["commit", "--rm", container, image.tag]]);
}

/** `--mount=type=cache,id=x,...` as key/value pairs (a key alone maps to ""). */
function mountOptions(arg: string): Record<string, string> {
  expect(arg.startsWith("--mount=")).toBe(true);
  return Object.fromEntries(arg.slice("--mount=".length).split(",").map((pair) => [pair.split("=")[0]!, pair.split("=").slice(1).join("=")]));
}

/**
 * `buildah config --env` (buildah 1.28, cmd/buildah/config.go): `NAME=value` sets NAME to the value
 * after Go's os.Expand with the variables set so far; `NAME-` unsets NAME.
 */
function applyEnv(env: Map<string, string>, args: string[]): void {
  for (let i = 0; i < args.length; i += 2) {
    expect(args[i]).toBe("--env");
    const spec = args[i + 1]!;
    const equals = spec.indexOf("=");
    if (equals === -1) {
      expect(spec.endsWith("-")).toBe(true);
      env.delete(spec.slice(0, -1));
      continue;
    }
    const name = spec.slice(0, equals);
    const value = goExpand(spec.slice(equals + 1), (variable) => {
      // Only the emitter's own `$` helper may be expanded: anything else reads the parent's variables.
      expect(env.has(variable), `the value of ${name} expands $${variable}`).toBe(true);
      return env.get(variable)!;
    });
    env.delete(name);
    env.set(name, value);
  }
}

/** Go's os.Expand: `$NAME`, `${NAME}` and the one-character specials; a `$` before anything else stays. */
function goExpand(s: string, lookup: (name: string) => string): string {
  let out = "";
  let from = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] !== "$" || j + 1 >= s.length) continue;
    out += s.slice(from, j);
    const [name, width] = shellName(s.slice(j + 1));
    if (name !== "") out += lookup(name);
    else if (width === 0) out += "$";
    j += width;
    from = j + 1;
  }
  return out + s.slice(from);
}

function shellName(s: string): [string, number] {
  const special = (c: string | undefined) => c !== undefined && /^[*#$@!?\-0-9]$/.test(c);
  if (s[0] === "{") {
    if (s.length > 2 && special(s[1]) && s[2] === "}") return [s[1]!, 3];
    const close = s.indexOf("}");
    if (close === 1) return ["", 2];
    return close === -1 ? ["", 1] : [s.slice(1, close), close + 1];
  }
  if (special(s[0])) return [s[0]!, 1];
  const name = /^[A-Za-z0-9_]*/.exec(s)![0];
  return [name, name.length];
}

/** A user Dockerfile: `buildah bud` with the build options buildah has flags for, each one argument. */
function checkBud(image: ImagePlan, parent: Extract<ParentImage, { kind: "dockerfile" }>, all: Call[]): void {
  const calls = all.filter((c) => c.name === "buildah").map((c) => c.args);
  expect(calls).toHaveLength(1);
  const args = calls[0]!;
  const options = parent.buildOptions as { buildargs?: Record<string, unknown>; labels?: Record<string, unknown>; target?: unknown };
  // Core does not check build options yet (reported): a lone surrogate in one becomes U+FFFD on disk.
  const text = (value: unknown) => throughUtf8(String(value));
  expect(args).toEqual([
    "bud",
    "--file", `${dir}/Dockerfile`,
    ...Object.entries(options.buildargs ?? {}).flatMap(([k, v]) => ["--build-arg", text(`${k}=${v}`)]),
    ...Object.entries(options.labels ?? {}).flatMap(([k, v]) => ["--label", text(`${k}=${v}`)]),
    ...(options.target !== undefined ? ["--target", text(options.target)] : []),
    "--tag", image.tag,
    parent.contextRoot ?? dir,
  ]);
}
