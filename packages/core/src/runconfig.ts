/**
 * The run configuration in the reference system's shape: `settings.docker` for the pipeline,
 * `steps.<name>.settings.docker` per step, and (Dockwright additions, as ZenML keeps them on its
 * server) the `stack` whose components decide requirements and where images go, and the
 * registered `code_repository`. Other keys belong to the pipeline framework and are left alone.
 */
import { z } from "zod";
import { codes, error, show, type Diagnostic } from "./diagnostics.js";
import type { StackComponent } from "./hooks.js";
import { didYouMean, formatPath } from "./settings.js";

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
  // A value that contains itself would never end the walk below; parseRunConfig reports it.
  if (raw === null || typeof raw !== "object" || Array.isArray(raw) || checkShape(raw)) return raw;
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

/**
 * Names become folder names of the output (and, sanitized from 0.84 as ZenML does, image tags,
 * which the image stage checks): anything a folder name can safely be, as ZenML takes any name.
 */
const nameRule = /^(?!\.{1,2}$)[^/\\\u0000-\u001f\u007f]{1,100}$/u;

export function checkName(name: string, path: string, what: string): Diagnostic | undefined {
  if (nameRule.test(name)) return undefined;
  return error(codes.INVALID_VALUE, path,
    `${show(name)} is not a valid ${what} name: it names a folder of the output, so use 1 to 100 characters without \`/\`, \`\\\` or control characters, and not \`.\` or \`..\`.`);
}

/** Objects nest at most this deep in a run configuration (the YAML reader allows 64 levels). */
const maxDepth = 64;

/**
 * What no schema check could survive or would see: a value that contains itself (a YAML alias
 * inside its own anchor, or a cyclic object), nesting deeper than `maxDepth` (the checks recurse
 * per level), and a `__proto__` key, which JavaScript objects turn into a prototype instead of a
 * key, so that the schema, the merge and every plugin would drop it without a word.
 */
function checkShape(root: object): Diagnostic | undefined {
  const pending: { value: unknown; path: PropertyKey[]; ancestors: ReadonlySet<object> }[] = [{ value: root, path: [], ancestors: new Set() }];
  // An object reached again (YAML aliases, shared objects) is walked again only when reached at a smaller depth.
  const shallowest = new Map<object, number>();
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path, ancestors } = next;
    if (value === null || typeof value !== "object") continue;
    if (ancestors.has(value)) return error(codes.INVALID_CONFIG, formatPath("", path), "the value contains itself (a YAML alias inside its own anchor). Write the value out.");
    if (path.length > maxDepth) return error(codes.INVALID_CONFIG, formatPath("", path), `the configuration nests deeper than ${maxDepth} levels. Flatten it.`);
    if ((shallowest.get(value) ?? Infinity) <= path.length) continue;
    shallowest.set(value, path.length);
    const inner = new Set(ancestors).add(value);
    for (const key of Object.keys(value)) {
      if (key === "__proto__") {
        return error(codes.INVALID_CONFIG, formatPath("", [...path, key]),
          "`__proto__` cannot be a key: JavaScript objects take it as their prototype, so the setting would be dropped. Rename it.");
      }
      pending.push({ value: (value as Record<string, unknown>)[key], path: [...path, Array.isArray(value) ? Number(key) : key], ancestors: inner });
    }
  }
  return undefined;
}

/**
 * The keys of ZenML's run configuration and of its step configurations, in every release: left
 * to the framework. Any other key that is close to one of ours (`setings`, `Steps`, `dokcer`)
 * is a typo that would drop what it holds without a word.
 */
const frameworkKeys = new Set([
  "run_name", "enable_cache", "enable_artifact_metadata", "enable_artifact_visualization", "enable_step_logs", "enable_pipeline_logs",
  "enable_heartbeat", "schedule", "build", "environment", "secrets", "tags", "extra", "model", "model_version", "parameters", "retry",
  "init_hook_source", "init_hook_kwargs", "cleanup_hook_source", "failure_hook_source", "success_hook_source", "start_hook_source",
  "end_hook_source", "substitutions", "cache_policy", "execution_mode", "name", "step_operator", "experiment_tracker",
  "function_parameters", "outputs",
]);

function misspelledKeys(raw: Record<string, unknown>): Diagnostic[] {
  const typos: Diagnostic[] = [];
  const check = (map: unknown, path: string[], ours: readonly string[]) => {
    if (map === null || typeof map !== "object" || Array.isArray(map)) return;
    for (const key of Object.keys(map)) {
      if (ours.includes(key) || frameworkKeys.has(key)) continue;
      const hint = didYouMean(key, ours);
      if (hint) {
        typos.push(error(codes.UNKNOWN_KEY, formatPath("", [...path, key]),
          `unknown key ${show(key)}: did you mean \`${hint}\`? What it holds would be ignored. Rename it.`));
      }
    }
  };
  check(raw, [], ["settings", "steps", "stack", "code_repository"]);
  check(raw["settings"], ["settings"], ["docker"]);
  const steps = raw["steps"];
  if (steps !== null && typeof steps === "object" && !Array.isArray(steps)) {
    for (const [name, step] of Object.entries(steps)) {
      check(step, ["steps", name], ["settings"]);
      if (step !== null && typeof step === "object") check((step as Record<string, unknown>)["settings"], ["steps", name, "settings"], ["docker"]);
    }
  }
  return typos;
}

export function parseRunConfig(raw: unknown): { config?: RunConfig; diagnostics: Diagnostic[] } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return {
      diagnostics: [error(codes.INVALID_CONFIG, "", `the run configuration must be a map with \`settings.docker\` and \`steps\`; got ${show(raw)}.`)],
    };
  }
  const unreadable = checkShape(raw);
  if (unreadable) return { diagnostics: [unreadable] };
  const typos = misspelledKeys(raw as Record<string, unknown>);
  if (typos.length > 0) return { diagnostics: typos };
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
