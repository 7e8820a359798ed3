/**
 * The run configuration in the reference system's shape: `settings.docker` for the pipeline,
 * `steps.<name>.settings.docker` per step, and (a Dockwright addition) the `stack` whose
 * component flavors decide the stack requirements. Other keys belong to the pipeline framework
 * and are left alone.
 */
import { z } from "zod";
import { codes, error, show, type Diagnostic } from "./diagnostics.js";
import type { StackComponent } from "./hooks.js";
import { formatPath } from "./settings.js";

const scopeSettings = z.looseObject({ docker: z.unknown().optional() });

const runConfigSchema = z.looseObject({
  settings: scopeSettings.optional(),
  steps: z.record(z.string(), z.looseObject({ settings: scopeSettings.optional() })).optional(),
  stack: z
    .strictObject({
      name: z.string().optional(),
      components: z.array(z.strictObject({ type: z.string(), flavor: z.string(), name: z.string().optional() })),
    })
    .optional(),
});

export type RunConfig = {
  pipeline: unknown;
  steps: { name: string; settings: unknown }[];
  stack: StackComponent[];
};

/** Names that become folder names and image tags. */
const nameRule = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

export function checkName(name: string, path: string, what: string): Diagnostic | undefined {
  if (nameRule.test(name)) return undefined;
  return error(codes.INVALID_VALUE, path,
    `${show(name)} is not a valid ${what} name: use up to 100 letters, digits, \`_\`, \`.\` and \`-\`, starting with a letter, digit or \`_\`.`);
}

export function parseRunConfig(raw: unknown): { config?: RunConfig; diagnostics: Diagnostic[] } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return {
      diagnostics: [error(codes.INVALID_CONFIG, "", `the run configuration must be a map with \`settings.docker\` and \`steps\`; got ${show(raw)}.`)],
    };
  }
  const parsed = runConfigSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      diagnostics: parsed.error.issues.map((issue) =>
        error(codes.INVALID_CONFIG, formatPath("", issue.path),
          issue.code === "unrecognized_keys"
            ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => show(k)).join(", ")}; a stack is \`{name, components: [{type, flavor, name}]}\`.`
            : `${issue.message}. A run configuration looks like \`{settings: {docker: {...}}, steps: {trainer: {settings: {docker: {...}}}}, stack: {components: [{type, flavor}]}}\`.`),
      ),
    };
  }
  const { settings, steps = {}, stack } = parsed.data;
  const diagnostics: Diagnostic[] = [];
  for (const name of Object.keys(steps)) {
    const problem = checkName(name, formatPath("steps", [name]), "step");
    if (problem) diagnostics.push(problem);
  }
  return {
    config: {
      pipeline: settings?.docker,
      steps: Object.entries(steps).map(([name, step]) => ({ name, settings: step.settings?.docker })),
      stack: stack?.components ?? [],
    },
    diagnostics,
  };
}
