/**
 * Property: for hostile settings, every build.sh passes `bash -n`, and run by bash with stand-ins
 * for `buildah` and `cp` that record their arguments, it ends normally and every value arrives as
 * one intact argument: the parent, env values (after buildah's own `$` expansion), the work
 * directory, copies, users, each command as the `/bin/sh -c` operand, its mounts, the tag.
 *
 * Every case is compiled and emitted; bash checks and runs the scripts of one case in
 * `DOCKWRIGHT_PROPERTY_BASH_EVERY` (default 4), counted in generation order, and of every case
 * fast-check tries while shrinking a failure. A script costs 20-40 ms of process starts (two bash
 * processes, its mktemp and rmdir, its command substitutions): all 1,000 cases would take most of
 * a minute on two busy cores. The stand-ins are bash functions exported into the script's
 * environment (bash finds a function before anything on PATH), which saves a process per call;
 * they receive exactly the arguments an executable would, and each is checked to fit in what an
 * executable can receive. One long-lived bash process (the driver) starts the bash processes,
 * rather than this big Node process.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { evaluateEnv, type ImagePlan, type ParentImage } from "@dockwright/core";
import { emitBuildah } from "@dockwright/emit-buildah";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { cases } from "./arbitraries.ts";
import { commandsOf, compileCase, parameters, Tally, timeout } from "./support.ts";

const dir = mkdtempSync(path.join(tmpdir(), "dockwright-buildah-property-"));
const file = (name: string) => path.join(dir, name);
/** A context folder whose name needs quoting; nothing reads it, the stand-ins only record it. */
const context = path.join(dir, "con text $(x) 'q'");
const container = "working-container";

/** The parent image's ID, as the stand-in `buildah pull` prints it. */
const parentId = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/**
 * The stand-ins: each records its name, argument count and arguments, NUL-terminated, to
 * $DOCKWRIGHT_RECORD; `buildah from` prints a container name, `buildah pull` an image ID, and
 * `buildah inspect` finds no image (a first build: nothing is cached); `cp` creates its destination.
 */
const recordCall = `{ printf '%s\\0%s\\0' "$FUNCNAME" "$#"; if [ "$#" -gt 0 ]; then printf '%s\\0' "$@"; fi; } >> "$DOCKWRIGHT_RECORD"`;
const standIns = {
  "BASH_FUNC_buildah%%": `() { ${recordCall}; case "\${1-}" in from) echo ${container} ;; pull) echo ${parentId} ;; inspect) return 1 ;; esac; }`,
  "BASH_FUNC_cp%%": `() { ${recordCall}; local last; for last; do :; done; : > "$last"; }`,
};

/**
 * For each line read, checks build.sh with `bash -n`, then runs it in an environment of exactly
 * the NUL-separated `NAME=value` entries of the file `env`, with the arguments of the file `args`;
 * answers with both exit codes.
 */
const driverScript = `
while IFS= read -r _; do
  bash -n "$PWD/build.sh" 2> syntax.err; syntax=$?
  mapfile -d '' -t vars < env; mapfile -d '' -t args < args
  : > calls
  env -i "\${vars[@]}" bash "$PWD/build.sh" "\${args[@]}" > run.out 2> run.err < /dev/null; echo "$syntax $?"
done
`;
const driver = spawn("bash", ["-c", driverScript], { cwd: dir, stdio: ["pipe", "pipe", "inherit"] });
const answers = createInterface({ input: driver.stdout })[Symbol.asyncIterator]();
afterAll(() => {
  driver.stdin.end();
  rmSync(dir, { recursive: true, force: true });
});

async function runScript(env: Record<string, string>, args: string[]): Promise<{ syntax: number; status: number }> {
  writeFileSync(file("env"), Object.entries(env).map(([name, value]) => `${name}=${value}\0`).join(""));
  writeFileSync(file("args"), args.map((arg) => `${arg}\0`).join(""));
  driver.stdin.write("\n");
  const [syntax, status] = String((await answers.next()).value).split(" ").map(Number);
  return { syntax: syntax!, status: status! };
}

const every = Number(process.env["DOCKWRIGHT_PROPERTY_BASH_EVERY"] ?? 4);
/** The longest argument or variable Linux passes to a process (MAX_ARG_STRLEN, less its NUL). */
const maxArgBytes = 131_071;

describe("Buildah script", () => {
  test(`${parameters.numRuns} hostile cases: bash -n, and every value one intact argument when run`, { timeout }, async () => {
    const tally = new Tally();
    let generated = 0;
    let shrinking = false;
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const run = shrinking || generated++ % every === 0;
        const plan = await compileCase(c);
        if (!plan) return void tally.rejected++;
        tally.compiled++;
        const images = plan.images.filter((i) => i.mode === "build");
        const artifacts = images.map((image) => emitBuildah(image));
        const refused = artifacts.flatMap((a) => a.diagnostics.filter((d) => d.severity === "error"));
        if (refused.length > 0) {
          // Only a value no process can receive may be refused, and then with a clear reason.
          expect(refused.map((d) => d.code)).toEqual(refused.map(() => "UNSUPPORTED_BY_BACKEND"));
          return void tally.rejected++;
        }
        const scripts = artifacts.map((a) => a.files.find((f) => f.path === "build.sh")!.contents as string);
        try {
          if (!run) return;
          for (const [i, image] of images.entries()) await checkScript(image, scripts[i]);
          ran++;
        } catch (e) {
          shrinking = true;
          throw e;
        }
      }),
      parameters,
    );
    tally.check();
    expect(ran).toBeGreaterThanOrEqual(parameters.numRuns! / every / 4);
  });
});

describe("limits of a process's arguments", () => {
  const compileOne = async (docker: Record<string, unknown>) =>
    (await compileCase({ config: { settings: { docker: { parent_image: "python:3.11", ...docker } } }, files: {}, pipelineName: "p" }))?.images[0];

  test("DOCKWRIGHT_ names are Dockwright's own: the script's `$` helper cannot overwrite a user variable", async () => {
    expect(await compileOne({ environment: { A: "$", DOCKWRIGHT_DOLLAR: "mine" } })).toBeUndefined();
  });

  test("a value whose escaped `$` signs exceed one argument is refused; a long one that fits runs", async () => {
    const refused = emitBuildah((await compileOne({ environment: { A: "$".repeat(6_554) } }))!);
    expect(refused.diagnostics).toEqual([expect.objectContaining({ code: "UNSUPPORTED_BY_BACKEND", path: "environment.A" })]);
    await checkScript((await compileOne({ environment: { A: "$".repeat(6_000) } }))!);
  });

  test("many variables are set over several `buildah config` calls, each within the limits", async () => {
    const environment = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`V${i}`, `${"x".repeat(60)}$${i}`]));
    const image = (await compileOne({ environment }))!;
    expect(emitted(image).match(/^buildah config/gm)!.length).toBeGreaterThan(2);
    await checkScript(image);
  });
});

function emitted(image: ImagePlan): string {
  const artifacts = emitBuildah(image);
  expect(artifacts.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return artifacts.files.find((f) => f.path === "build.sh")!.contents as string;
}

type Call = { name: string; args: string[] };

async function checkScript(image: ImagePlan, script = emitted(image)): Promise<void> {
  writeFileSync(file("build.sh"), script);
  // A user Dockerfile's script runs with its default context (the setting's build context root).
  const args = image.parent.kind === "dockerfile" ? [] : [context];
  const env = { ...secretVariables(image), PATH: process.env["PATH"]!, DOCKWRIGHT_RECORD: file("calls"), ...standIns };
  const { syntax, status } = await runScript(env, args);
  expect(readFileSync(file("syntax.err"), "utf8")).toBe("");
  expect(syntax).toBe(0);
  expect(readFileSync(file("run.err"), "utf8")).toBe("");
  expect(status).toBe(0);
  const calls = readCalls(readFileSync(file("calls"), "utf8"));
  for (const arg of calls.flatMap((c) => c.args)) expect(Buffer.byteLength(arg)).toBeLessThanOrEqual(maxArgBytes);
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
  // The layer cache's bookkeeping, as a first build does it: the parent's ID, then a look for
  // every cached image, newest first; each step committed, and the next container made from it.
  expect(calls.shift()).toEqual(["pull", "--quiet", "--policy", "missing", parent.kind === "image" ? parent.ref : parent.tag]);
  const inspected: string[] = [];
  while (calls[0]?.[0] === "inspect") inspected.push(calls.shift()!.at(-1)!);
  for (const tag of inspected) expect(tag).toMatch(new RegExp(`^localhost/dockwright-cache:[0-9a-f]{64}-${parentId.slice(0, 12)}$`));
  let base = parentId;
  let made = false;
  const committed: string[] = [];
  const next = () => {
    if (!made) {
      expect(calls.shift()).toEqual(["from", base]);
      made = true;
    }
    return calls.shift() ?? [];
  };
  const endStep = () => {
    const commit = calls.shift() ?? [];
    expect(commit.slice(0, -1)).toEqual(["commit", "--quiet", "--rm", container]);
    base = commit.at(-1)!;
    committed.push(base);
    made = false;
  };

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
        // One call, or several for many variables: each sets some of them.
        const unset = new Set(layer.vars.map(([name]) => name));
        while (unset.size > 0) {
          const config = next();
          expect([config[0], config.at(-1)]).toEqual(["config", container]);
          for (const name of applyEnv(env, config.slice(1, -1))) unset.delete(name);
        }
        for (const [name, value] of layer.vars) expected.set(name, evaluateEnv(value, (v) => expected.get(v)));
        break;
      }
      case "requirements":
        expect(next()).toEqual(["copy", "--quiet", container, `${context}/${layer.file}`, layer.dest]);
      // falls through: then the install
      case "apt":
      case "installer":
      case "permissions":
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
        endStep();
        break;
      }
      case "sources":
        expect(next()).toEqual(["copy", "--quiet", ...(layer.chown ? ["--chown", layer.chown] : []), container, context, "."]);
        endStep();
        break;
      case "user":
        expect(next()).toEqual(["config", "--user", layer.name, container]);
        break;
    }
  }
  expect(env).toEqual(expected);
  if (made || calls[0]?.[0] !== "tag") {
    // Configuration after the last step: the image is committed, and kept under its own key.
    if (!made) expect(calls.shift()).toEqual(["from", base]);
    // The image's own configuration, in one call: its entrypoint, command and labels.
    const { entrypoint, cmd, labels } = image.config;
    const config = [
      ...(entrypoint ? ["--entrypoint", JSON.stringify(entrypoint)] : []),
      ...(cmd || entrypoint ? ["--cmd", cmd ? JSON.stringify(cmd) : ""] : []),
      ...labels.flatMap(([name, value]) => ["--label", `${name}=${value}`]),
    ];
    if (config.length > 0) expect(calls.shift()).toEqual(["config", ...config, container]);
    expect(calls).toEqual([["commit", "--rm", container, image.tag], ["tag", image.tag, inspected[0]]]);
    expect(inspected).toEqual([inspected[0], ...committed.reverse()]);
  } else {
    // Nothing after the last step: the image is that step's.
    expect(calls).toEqual([["tag", base, image.tag]]);
    expect(inspected).toEqual([...committed].reverse());
  }
  expect(new Set(inspected).size).toBe(inspected.length);
}

/** `--mount=type=cache,id=x,...` as key/value pairs (a key alone maps to ""). */
function mountOptions(arg: string): Record<string, string> {
  expect(arg.startsWith("--mount=")).toBe(true);
  return Object.fromEntries(arg.slice("--mount=".length).split(",").map((pair) => [pair.split("=")[0]!, pair.split("=").slice(1).join("=")]));
}

/**
 * `buildah config --env` (buildah 1.28, cmd/buildah/config.go): `NAME=value` sets NAME to the value
 * after Go's os.Expand with the variables set so far; `NAME-` unsets NAME. Returns the names set.
 */
function applyEnv(env: Map<string, string>, args: string[]): string[] {
  const set: string[] = [];
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
    set.push(name);
  }
  return set;
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
  const options = parent.buildOptions;
  expect(args).toEqual([
    "bud",
    "--layers",
    "--file", `${dir}/Dockerfile`,
    ...options.buildArgs.flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    ...options.labels.flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    ...(options.target !== undefined ? ["--target", options.target] : []),
    "--tag", image.tag,
    parent.contextRoot ?? dir,
  ]);
}
