/** Shared by the property tests: how many runs, compiling a generated case, what the IR implies. */
import { contextWarnings } from "@dockwright/context";
import { commandsFor, Compiler, formatDiagnostic, hasErrors, type BuildPlan, type CompileHost, type Diagnostic, type EnvValue, type ImagePlan, type Layer, type RunSpec } from "@dockwright/core";
import { zenml } from "@dockwright/plugin-zenml";
import fc from "fast-check";
import { expect } from "vitest";
import { memoryHost } from "../support/memory-host.ts";
import { need, pythonOracle } from "../support/python.ts";
import type { Case } from "./arbitraries.ts";

/** Cases per backend: 1,000 in the normal run; `DOCKWRIGHT_PROPERTY_RUNS=100000` for a long one. */
export const runs: number = Number(process.env["DOCKWRIGHT_PROPERTY_RUNS"] ?? 1_000);

/** fast-check parameters; `DOCKWRIGHT_PROPERTY_SEED` replays a reported failure. */
export const parameters: fc.Parameters<[unknown]> = {
  numRuns: runs,
  ...(process.env["DOCKWRIGHT_PROPERTY_SEED"] ? { seed: Number(process.env["DOCKWRIGHT_PROPERTY_SEED"]) } : {}),
  reporter: report,
};

/**
 * fast-check's report, with the counterexample as JSON (control characters escaped) and long
 * strings abbreviated: a 100,000-character value would drown the message.
 */
function report(details: fc.RunDetails<[unknown]>): void {
  if (!details.failed) return;
  const abbreviate = (_: string, value: unknown) =>
    typeof value === "string" && value.length > 120 ? `${value.slice(0, 60)}...(${value.length} characters)...${value.slice(-20)}` : value;
  const error = details.errorInstance instanceof Error ? details.errorInstance : new Error(String(details.errorInstance));
  error.message = [
    `Property failed after ${details.numRuns} tests (seed ${details.seed}, path "${details.counterexamplePath}"; ` +
      `replay with DOCKWRIGHT_PROPERTY_SEED=${details.seed}).`,
    `Counterexample: ${JSON.stringify(details.counterexample?.[0], abbreviate, 1)}`,
    error.message,
  ].join("\n");
  throw error;
}

/** A ceiling, not a budget: 30 ms a case is far more than any suite takes on a busy machine. */
export const timeout: number = Math.max(60_000, runs * 30);

const compiler = new Compiler([zenml()]);

/** The in-memory source root of a case, whose build context warns about its files as the real one does. */
function caseHost(c: Case): CompileHost {
  const host = memoryHost(c.files);
  const context = host.context.bind(host);
  return { ...host, context: async (...args) => {
    const found = await context(...args);
    return { ...found, diagnostics: contextWarnings(found.snapshot) };
  } };
}

/** pip's own reading of a requirements file: its bytes decoded as pip decodes them, then `req_file.preprocess`. */
const pipLines = need(pythonOracle(`
from pip._internal.req.req_file import preprocess
from pip._internal.utils.encoding import auto_decode
def answer(text):
    return [line for _, line in preprocess(auto_decode(text.encode("utf-8")))]
`, ["pip"]));

/**
 * Compiles a case in process. Never throws for user input (a throw fails the property); without
 * a plan, the diagnostics must say why, each on one line. With a plan, pip reads every generated
 * requirements file as the resolver did: no line pip installs is missing from the plan.
 */
export async function compileCase(c: Case): Promise<BuildPlan | undefined> {
  const result = await compiler.compile({ config: c.config, pipelineName: c.pipelineName, host: caseHost(c), ...(c.entrypoint ? { entrypoint: c.entrypoint } : {}) });
  checkDiagnostics(result.diagnostics);
  if (!result.plan) expect(hasErrors(result.diagnostics), "no plan, but no error says why").toBe(true);
  else await checkRequirementFiles(result.plan);
  return result.plan;
}

/**
 * A hostile value must not forge log lines or terminal escapes in a message: no control character
 * (a tab is none), no C1 control, line or paragraph separator, or bidirectional override.
 */
function checkDiagnostics(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) {
    const text = formatDiagnostic(d);
    expect(text, "a diagnostic holds a control character").not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  }
}

/** pip's lines of each generated requirements file, as a set, against the plan's (skipped without pip, except under CI). */
async function checkRequirementFiles(plan: BuildPlan): Promise<void> {
  if (!pipLines) return;
  for (const image of plan.images) {
    for (const layer of image.layers) {
      if (layer.kind !== "requirements") continue;
      const file = image.context.generated.find((f) => f.path === layer.file)!;
      const read = (await pipLines(throughUtf8(file.contents))) as string[];
      expect([...read].sort(), `pip reads ${layer.file} otherwise than the plan`).toEqual(layer.lines.map((line) => line.text).sort());
    }
  }
}

/** The images a backend prints itself (not used or retagged as is, not a user Dockerfile built as is). */
export function builtImages(plan: BuildPlan): ImagePlan[] {
  return plan.images.filter((image) => image.mode === "build" && image.parent.kind !== "dockerfile");
}

export type CommandLayer = Extract<Layer, { kind: "apt" | "installer" | "requirements" | "permissions" | "run" }>;

export function isCommand(layer: Layer): layer is CommandLayer {
  return layer.kind === "apt" || layer.kind === "installer" || layer.kind === "requirements" || layer.kind === "permissions" || layer.kind === "run";
}

/** The commands of an image's layers, in order, as every backend must run them. */
export function commandsOf(image: ImagePlan, cacheMounts: boolean): RunSpec[] {
  return image.layers.filter(isCommand).map((layer) => commandsFor(layer, { cacheMounts }));
}

/** The file as it is written to disk and read back: unpaired surrogates do not survive UTF-8. */
export function throughUtf8(text: string | Uint8Array): string {
  return typeof text === "string" ? Buffer.from(text, "utf8").toString("utf8") : Buffer.from(text).toString("utf8");
}

/** Counts how many cases compiled, so a generator that only produces rejected input is noticed. */
export class Tally {
  compiled = 0;
  rejected = 0;
  /** At least a quarter of the cases must reach the output checks. */
  check(): void {
    const total = this.compiled + this.rejected;
    expect(this.compiled, `only ${this.compiled} of ${total} cases compiled`).toBeGreaterThanOrEqual(total / 4);
  }
}

/** An environment value as the Dockerfile's ENV writes it, unescaped: text as is, variables as `${NAME}`. */
export function envText(value: EnvValue): string {
  return value.map((part) => (typeof part === "string" ? part : `\${${part.variable}${part.modifier ?? ""}${part.word ? envText(part.word) : ""}}`)).join("");
}
