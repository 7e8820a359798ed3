/**
 * The run configuration in the reference system's shape: `settings.docker` for the pipeline,
 * `steps.<name>.settings.docker` per step, and (Dockwright additions, as ZenML keeps them on its
 * server) the `stack` whose components decide requirements and where images go, and the
 * registered `code_repository`. Other keys belong to the pipeline framework and are left alone.
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
      components: z.array(z.strictObject({
        type: z.string(),
        flavor: z.string(),
        name: z.string().optional(),
        /** A container registry's URI: images are pushed under it. */
        uri: z.string().optional(),
        /** A container registry's repository for images whose `target_repository` is unset. */
        default_repository: z.string().optional(),
      })),
    })
    .optional(),
  code_repository: z.strictObject({ type: z.string(), url: z.string().optional() }).optional(),
});

export type RunConfig = {
  pipeline: unknown;
  steps: { name: string; settings: unknown }[];
  stack: StackComponent[];
  /** The code repository ZenML has registered for the source root, by type (`github`, `gitlab`). */
  codeRepository?: { type: string; url?: string };
};

/** ZenML's placeholder: `${NAME}`, letters, digits and `_`. */
const placeholder = /\$\{([a-zA-Z0-9_]+)\}/g;

/**
 * Replaces `${VAR}` placeholders in the `settings` and `steps` of a run configuration (keys and
 * values) from the client environment, as ZenML 0.67 and later do before anything else; an unset
 * variable is an error there, and here.
 */
export function substitutePlaceholders(raw: unknown, environment: Readonly<Record<string, string | undefined>>, diagnostics: Diagnostic[]): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const missing = new Map<string, string>();
  const walk = (value: unknown, path: PropertyKey[]): unknown => {
    if (typeof value === "string") {
      return value.replace(placeholder, (_, name: string) => {
        const found = environment[name];
        if (found === undefined) missing.set(name, formatPath("", path));
        return found ?? "";
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [walk(k, path) as string, walk(v, [...path, k])]));
    }
    return value;
  };
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const key of ["settings", "steps"]) if (key in out) out[key] = walk(out[key], [key]);
  for (const [name, at] of missing) {
    diagnostics.push(error(codes.UNSET_VARIABLE, at,
      `\`\${${name}}\` is a placeholder for the environment variable ${name}, which is not set (ZenML refuses this too). Set it, or write the value.`));
  }
  return out;
}

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
            ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => show(k)).join(", ")}; a stack is \`{name, components: [{type, flavor, name, uri, default_repository}]}\` and a code repository \`{type, url}\`.`
            : `${issue.message}. A run configuration looks like \`{settings: {docker: {...}}, steps: {trainer: {settings: {docker: {...}}}}, stack: {components: [{type, flavor}]}}\`.`),
      ),
    };
  }
  const { settings, steps = {}, stack, code_repository } = parsed.data;
  const diagnostics: Diagnostic[] = [];
  for (const name of Object.keys(steps)) {
    const problem = checkName(name, formatPath("steps", [name]), "step");
    if (problem) diagnostics.push(problem);
  }
  return {
    config: {
      pipeline: settings?.docker,
      steps: Object.entries(steps).map(([name, step]) => ({ name, settings: step.settings?.docker })),
      stack: (stack?.components ?? []).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as StackComponent),
      ...(code_repository ? { codeRepository: Object.fromEntries(Object.entries(code_repository).filter(([, v]) => v !== undefined)) as { type: string; url?: string } } : {}),
    },
    diagnostics,
  };
}
