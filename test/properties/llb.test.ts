/**
 * Property: for hostile settings, `llb.pb` decodes, and every value reaches the ops unchanged:
 * each command as `/bin/sh -c` argument, the environment, user and work directory in every exec
 * op's meta, the mounts, the copies, and the image config.
 */
import path from "node:path";
import { evaluateEnv, type ImagePlan } from "@dockwright/core";
import { decodeDefinition, emitLlb, type DumpLlbJson } from "@dockwright/emit-llb";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { cases } from "./arbitraries.ts";
import { builtImages, commandsOf, compileCase, parameters, Tally, timeout } from "./support.ts";

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const sharing = { shared: undefined, private: 1, locked: 2 };

describe("LLB", () => {
  test(`${parameters.numRuns} hostile cases: every value unchanged in the decoded ops`, { timeout }, async () => {
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const plan = await compileCase(c);
        if (!plan) return void tally.rejected++;
        tally.compiled++;
        for (const image of builtImages(plan)) checkLlb(image);
      }),
      parameters,
    );
    tally.check();
  });
});

type Json = any;

/** A command or `NAME=value` longer than the 128 KiB (with its NUL) Linux passes to a process. */
function tooLongForExec(image: ImagePlan): boolean {
  const env = new Map([["PATH", defaultPath]]);
  const strings = commandsOf(image, true).map((spec) => spec.shell);
  for (const layer of image.layers) if (layer.kind === "env") for (const [name, value] of layer.vars) env.set(name, evaluateEnv(value, (v) => env.get(v)));
  for (const [name, value] of env) strings.push(`${name}=${value}`);
  return strings.some((text) => Buffer.byteLength(text) > 131_071);
}

function checkLlb(image: ImagePlan): void {
  const artifacts = emitLlb(image);
  const file = (name: string) => artifacts.files.find((f) => f.path === name)?.contents;
  const pb = file("llb.pb");
  if (!pb && !tooLongForExec(image)) {
    // Only an image with no file system change on scratch has nothing to print, and says so.
    expect(image.parent).toEqual({ kind: "image", ref: "scratch" });
    expect(artifacts.diagnostics.map((d) => d.code)).toEqual(["INVALID_CONFIG"]);
    return;
  }
  if (tooLongForExec(image)) {
    // No process could receive it: refused, rather than a definition whose build fails.
    expect(artifacts.files).toEqual([]);
    expect(artifacts.diagnostics.map((d) => d.code)).toEqual(["UNSUPPORTED_BY_BACKEND"]);
    return;
  }
  // Warnings only: a variable that reads one of the parent's (`$HOME`) is taken as empty, and says so.
  expect(artifacts.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const ops: DumpLlbJson = decodeDefinition(pb as Uint8Array);
  expect(ops).toEqual(JSON.parse(file("llb.json") as string));
  const execs: Json[] = ops.flatMap((op) => ((op.Op["Op"] as Json)?.exec ? [(op.Op["Op"] as Json).exec] : []));
  const copies: Json[] = ops.flatMap((op) => ((op.Op["Op"] as Json)?.file ? (op.Op["Op"] as Json).file.actions.filter((a: Json) => a.Action.copy) : []));

  // What each exec op must see, replayed from the IR: BuildKit's default PATH first, a redefined name moving to the end.
  let env: [string, string][] = [["PATH", defaultPath]];
  let cwd = "/";
  let user = "";
  const specs = commandsOf(image, true);
  for (const layer of image.layers) {
    switch (layer.kind) {
      case "workdir":
        cwd = path.posix.resolve(cwd, layer.path);
        break;
      case "env":
        for (const [name, value] of layer.vars) {
          const text = evaluateEnv(value, (v) => env.find(([n]) => n === v)?.[1]);
          env = [...env.filter(([n]) => n !== name), [name, text]];
        }
        break;
      case "user":
        user = layer.name;
        break;
      case "sources":
        expect(copies.shift().Action.copy).toMatchObject({ src: "/", dest: `${cwd === "/" ? "" : cwd}/` });
        break;
      case "requirements":
        expect(copies.shift().Action.copy).toMatchObject({ src: `/${layer.file}`, dest: layer.dest });
      // falls through: a requirements layer runs its install too
      case "apt":
      case "installer":
      case "permissions":
      case "run": {
        const spec = specs.shift()!;
        const exec = execs.shift();
        expect(exec.meta.args).toEqual(["/bin/sh", "-c", spec.shell]);
        expect(exec.meta.env).toEqual(env.map(([n, v]) => `${n}=${v}`));
        expect(exec.meta.cwd).toBe(cwd);
        expect(exec.meta.user ?? "").toBe(user);
        expect(exec.mounts.slice(1)).toEqual([
          ...spec.cacheMounts
            .map((m) => ({ input: -1, dest: m.target, output: -1, mountType: 3, cacheOpt: { ID: m.id, ...(sharing[m.sharing] ? { sharing: sharing[m.sharing] } : {}) } }))
            .sort((a, b) => Buffer.compare(Buffer.from(a.dest), Buffer.from(b.dest))),
          ...spec.secrets.map((s) => ({ input: -1, dest: s.target, output: 0, mountType: 1, secretOpt: { ID: s.id, mode: 0o400 } })),
        ]);
        break;
      }
    }
  }
  expect(execs).toEqual([]);
  expect(copies).toEqual([]);

  const config = JSON.parse(file("image-config.json") as string).config;
  expect(config.Env).toEqual(env.map(([n, v]) => `${n}=${v}`));
  expect(config.WorkingDir).toBe(cwd);
  expect(config.User ?? "").toBe(user);
}
