/**
 * Property: for hostile settings, the Dockerfile (both modes), parsed by an independent parser,
 * holds exactly the instructions the IR implies, and every value parses back to the input.
 */
import { codes, type ImagePlan, type RunSpec } from "@dockwright/core";
import { emitDockerfile, type DockerfileMode } from "@dockwright/emit-dockerfile";
import { DockerfileParser, type Env, type Flag, type Instruction, type Run } from "dockerfile-ast";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expectedKeywords } from "../support/ir.ts";
import { cases } from "./arbitraries.ts";
import { builtImages, commandsOf, compileCase, envText, parameters, Tally, throughUtf8, timeout } from "./support.ts";

describe("Dockerfile", () => {
  test(`${parameters.numRuns} hostile cases: instructions and values as the IR says, in both modes`, { timeout }, async () => {
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const plan = await compileCase(c);
        if (!plan) return void tally.rejected++;
        tally.compiled++;
        for (const image of builtImages(plan)) {
          checkDockerfile(image, "buildkit");
          checkDockerfile(image, "plain");
        }
      }),
      parameters,
    );
    tally.check();
  });
});

function checkDockerfile(image: ImagePlan, mode: DockerfileMode): void {
  const artifacts = emitDockerfile(image, { mode });
  if (mode === "plain" && image.secrets.length > 0) {
    // Without secret mounts a secret would land in the image: refused, never dropped.
    expect(artifacts.files).toEqual([]);
    expect(artifacts.diagnostics.map((d) => d.code)).toEqual([codes.UNSUPPORTED_BY_BACKEND]);
    return;
  }
  if (artifacts.diagnostics.some((d) => d.message.includes("bytes Docker reads"))) {
    // A line Docker's parser would refuse: refused here too, with the reason.
    expect(artifacts.files).toEqual([]);
    expect(artifacts.diagnostics.map((d) => d.code)).toEqual([codes.UNSUPPORTED_BY_BACKEND]);
    return;
  }
  expect(artifacts.diagnostics).toEqual([]);
  const dockerfile = artifacts.files.find((f) => f.path === "Dockerfile");
  expect(artifacts.files.slice(1)).toEqual(image.context.generated);
  const text = throughUtf8(dockerfile!.contents);
  for (const line of text.split("\n")) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(65_535);
  const instructions = DockerfileParser.parse(text).getInstructions();
  expect(instructions.map((i) => i.getKeyword())).toEqual(expectedKeywords(image));

  const next = (() => {
    let index = 0;
    return () => instructions[index++]!;
  })();
  expect(next().getRawArgumentsContent()).toBe(image.parent.kind === "plan" ? image.parent.tag : (image.parent as { ref: string }).ref);
  const specs = commandsOf(image, mode === "buildkit");
  for (const layer of image.layers) {
    switch (layer.kind) {
      case "workdir":
        expect(next().getRawArgumentsContent()).toBe(layer.path);
        break;
      case "env":
        expect(envOf(next() as Env)).toEqual(layer.vars.map(([name, value]) => [name, envText(value)]));
        break;
      case "requirements":
        expect(copyOf(next())).toEqual({ flags: [], args: [layer.file, layer.dest] });
        checkRun(next() as Run, specs.shift()!, text);
        break;
      case "apt":
      case "installer":
      case "permissions":
      case "run":
        checkRun(next() as Run, specs.shift()!, text);
        break;
      case "sources":
        expect(copyOf(next())).toEqual({ flags: layer.chown ? [["chown", layer.chown]] : [], args: [".", "."] });
        break;
      case "user":
        expect(next().getRawArgumentsContent()).toBe(layer.name);
        break;
    }
  }
}

/**
 * ENV pairs as the parser reads them. It leaves `\$` for variable processing, which Docker then
 * turns into a literal `$`.
 */
function envOf(env: Env): [string, string | undefined][] {
  return env.getProperties().map((p) => [p.getName(), p.getValue()?.replaceAll("\\$", "$")]);
}

function copyOf(copy: Instruction): { flags: [string, string | null][]; args: string[] } {
  const flags = (copy as Run).getFlags().map((f) => [f.getName(), f.getValue()] as [string, string | null]);
  return { flags, args: copy.getArguments().map((a) => a.getValue()) };
}

/** A RUN: its mounts as flags, and the command Docker hands to `/bin/sh -c`, unchanged. */
function checkRun(run: Run, spec: RunSpec, text: string): void {
  expect(run.getHeredocs(), "the command starts a heredoc that swallows the next instructions").toEqual([]);
  const start = offsetOf(text, run.getRange().start);
  const line = text.slice(start, text.indexOf("\n", start));
  // Docker reads flags only up to the first word that is none (BuildKit's extractBuilderFlags), so
  // never inside an exec-form array; the parser here also takes a ` --` inside one for a flag (and
  // then no longer sees the array). Mount options hold no blank, so the flags end at the first word
  // without `--`.
  const command = start + /^RUN(?: --\S+)* /.exec(line)![0].length;
  const flags = run.getFlags().filter((f) => offsetOf(text, f.getRange().start) < command);
  expect(flags.map(mountOf)).toEqual([
    ...spec.cacheMounts.map((m) => ({ type: "cache", id: m.id, target: m.target, sharing: m.sharing })),
    ...spec.secrets.map((s) => ({ type: "secret", id: s.id, target: s.target, required: "true" })),
  ]);
  if (text[command] === "[") {
    // Exec form: a JSON array, read as Go's JSON decoder reads it (the parser's own decoding drops characters).
    expect(JSON.parse(text.slice(command, start + line.length))).toEqual(["/bin/sh", "-c", spec.shell]);
  } else {
    // Shell form: Docker passes the rest of the line after the keyword and flags as it is (trimmed).
    const { start, end } = run.getRange();
    expect(end.line).toBe(start.line);
    // From where Docker's flags end, not the parser's: it also takes a quoted `'--x` for a flag.
    expect(text.slice(command - 1, offsetOf(text, end))).toBe(` ${spec.shell}`);
  }
}

function mountOf(flag: Flag): Record<string, string | null> {
  expect(flag.getName()).toBe("mount");
  return Object.fromEntries(flag.getOptions().map((o) => [o.getName(), o.getValue()]));
}

function offsetOf(text: string, position: { line: number; character: number }): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) offset = text.indexOf("\n", offset) + 1;
  return offset + position.character;
}

