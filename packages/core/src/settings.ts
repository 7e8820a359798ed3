/**
 * DockerSettings as the selected ZenML release validates them: the fields it has, pydantic's
 * coercions of its generation, its migrations between old and new fields, its checks, its
 * defaults, and how step settings merge over the pipeline's. The fields are `fields.ts`.
 */
import semver from "semver";
import { z } from "zod";
import { codes, error, show, warning, type Diagnostic } from "./diagnostics.js";
import { fieldTable, modelTable, type FieldDef, type FieldName, type FieldType, type GivenSettings, type ModelDef, type ModelName, type Settings } from "./fields.js";
import { PythonFloat, pythonStr } from "./python.js";
import type { BuildRules } from "./rules.js";

const fields: Readonly<Record<FieldName, FieldDef>> = fieldTable;
const models: Readonly<Record<ModelName, ModelDef>> = modelTable;
const fieldNames = Object.keys(fields) as FieldName[];

/** Whether the release has the field (Dockwright's own additions are always there). */
export function fieldExists(name: FieldName, rules: BuildRules): boolean {
  const def = fields[name];
  return def.extension === true || def.releases === undefined || semver.satisfies(rules.release, def.releases);
}

/** Formats a path array as `a.b[2]["odd key"]`. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(part))) out += out ? `.${String(part)}` : String(part);
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/** Edit distance, for did-you-mean hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest known name, when it is close enough to be a likely typo. */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

// ---------------------------------------------------------------------------------------------
// Types, with each pydantic generation's coercions

const trueWords = new Set(["1", "on", "t", "true", "y", "yes"]);
const falseWords = new Set(["0", "off", "f", "false", "n", "no"]);

/** pydantic's lax bool: 0/1 and the usual words, case-insensitive. */
function toBool(value: unknown): unknown {
  const v = value instanceof PythonFloat ? value.valueOf() : value;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === "string") {
    const word = v.toLowerCase();
    if (trueWords.has(word)) return true;
    if (falseWords.has(word)) return false;
  }
  return v;
}

/** pydantic 1 turns numbers (and bools, which are ints in Python) into their `str()`. */
function toStrV1(value: unknown): unknown {
  return typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" || value instanceof PythonFloat ? pythonStr(value) : value;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof PythonFloat);
}

function schemaOf(type: FieldType, rules: BuildRules): z.ZodType {
  if (type === "str") return rules.pydantic === 1 ? z.preprocess(toStrV1, z.string()) : z.string();
  if (type === "bool") return z.preprocess(toBool, z.boolean());
  if (type === "any") return z.unknown();
  if ("list" in type) return z.array(schemaOf(type.list, rules));
  if ("dict" in type) return z.record(z.string(), schemaOf(type.dict, rules));
  if ("enum" in type) return z.enum(type.enum as [string, ...string[]]);
  if ("union" in type) {
    const members = type.union
      .filter((m) => typeof m === "string" || !("releases" in m) || semver.satisfies(rules.release, m.releases))
      .map((m) => schemaOf(typeof m === "object" && "releases" in m ? m.type : (m as FieldType), rules));
    return members.length === 1 ? members[0]! : z.union(members as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  }
  const model = models[type.model];
  const shape = Object.fromEntries(Object.entries(model.fields).map(([key, def]) => [key, def.required ? fieldSchema(def, rules) : fieldSchema(def, rules).optional()]));
  // Models that ignore unknown keys had them reported as warnings and removed before validation.
  return model.extra === "forbid" ? z.strictObject(shape) : z.object(shape);
}

function fieldSchema(def: FieldDef, rules: BuildRules): z.ZodType {
  const schema = schemaOf(def.type, rules);
  return def.nullable ? schema.nullable() : schema;
}

// ---------------------------------------------------------------------------------------------
// Parsing one scope

export type ParsedSettings = { settings: GivenSettings; diagnostics: Diagnostic[] };

/**
 * Validates one scope's DockerSettings as the release does, and applies its migrations. Returns
 * only the keys that were set (after migration), as ZenML merges them; `base` is the scope's
 * settings path, e.g. `steps.trainer.settings.docker`.
 */
export function parseSettings(raw: unknown, base: string, rules: BuildRules): ParsedSettings {
  if (raw === undefined || raw === null) return { settings: {}, diagnostics: [] };
  if (!isMap(raw)) {
    return { settings: {}, diagnostics: [error(codes.INVALID_TYPE, base, `got ${show(raw)}; expected a map of Docker settings.`)] };
  }
  const diagnostics: Diagnostic[] = [];
  const known = fieldNames.filter((name) => fieldExists(name, rules));
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if ((known as string[]).includes(key)) input[key] = value;
    else diagnostics.push(unknownKey(key, base, known, rules));
  }
  for (const name of ["build_config", "parent_image_build_config"] as const) {
    const value = input[name];
    if (!isMap(value)) continue;
    const nestedKeys = Object.keys(models["build-config"].fields);
    const kept: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (nestedKeys.includes(key)) kept[key] = v;
      else {
        const hint = didYouMean(key, nestedKeys);
        // ZenML's build configuration ignores extra keys.
        diagnostics.push(warning(codes.UNKNOWN_KEY, formatPath(base, [name, key]),
          `${show(key)} is not a key of \`${name}\` and has no effect${hint ? `. Did you mean \`${hint}\`?` : `; it takes ${nestedKeys.map((k) => `\`${k}\``).join(" and ")}.`}`));
      }
    }
    input[name] = kept;
  }

  const parsed = settingsSchema(rules, known).safeParse(input);
  if (!parsed.success) {
    diagnostics.push(...parsed.error.issues.map((issue) => typeDiagnostic(issue, input, base)));
    return { settings: {}, diagnostics };
  }
  const settings = parsed.data as GivenSettings;
  migrate(settings, base, rules, diagnostics);
  diagnostics.push(...checkSettings(settings, base, rules));
  return { settings, diagnostics };
}

/** One schema per release's rules: building it is the costly part of a parse. */
const schemas = new WeakMap<BuildRules, z.ZodType>();

function settingsSchema(rules: BuildRules, known: readonly FieldName[]): z.ZodType {
  let schema = schemas.get(rules);
  if (!schema) {
    schema = z.object(Object.fromEntries(known.map((name) => [name, fieldSchema(fields[name], rules).optional()])));
    schemas.set(rules, schema);
  }
  return schema;
}

function unknownKey(key: string, base: string, known: readonly FieldName[], rules: BuildRules): Diagnostic {
  const at = formatPath(base, [key]);
  const def = (fields as Record<string, FieldDef | undefined>)[key];
  const ignored = rules.unknownKeys === "ignore";
  if (def?.releases !== undefined) {
    return (ignored ? warning : error)(codes.UNKNOWN_KEY, at,
      `\`${key}\` is a setting of ZenML ${def.releases}, not of ${rules.release}, which ${ignored ? "ignores it" : "rejects it"}. ` +
        "Select a release that has it (`--zenml-version`), or remove it.");
  }
  const hint = didYouMean(key, known);
  return (ignored ? warning : error)(codes.UNKNOWN_KEY, at,
    `unknown setting ${show(key)}${ignored ? `, which ZenML ${rules.release} ignores` : ""}.` +
      (hint ? ` Did you mean \`${hint}\`?` : ` Known settings: ${known.join(", ")}.`));
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function typeDiagnostic(issue: z.core.$ZodIssue, input: unknown, base: string): Diagnostic {
  const field = fields[String(issue.path[0]) as FieldName];
  if (issue.code === "unrecognized_keys") {
    const known = field && typeof field.type === "object" && "list" in field.type && typeof field.type.list === "object" && "model" in field.type.list
      ? Object.keys(models[field.type.list.model].fields) : [];
    return error(codes.UNKNOWN_KEY, formatPath(base, [...issue.path, issue.keys[0] ?? ""]),
      `unknown key ${show(issue.keys[0])}${didYouMean(issue.keys[0] ?? "", known) ? `. Did you mean \`${didYouMean(issue.keys[0] ?? "", known)}\`?` : `; the keys are ${known.join(", ")}.`}`);
  }
  // A member of a model (build_config.dockerignore, secrets[0].id) says what it expects itself.
  const model = modelOf(field?.type);
  const member = model ? model.fields[String(issue.path.find((p, i) => i > 0 && typeof p === "string"))] : undefined;
  const expected = (member ?? field)?.expects ?? issue.message;
  return error(codes.INVALID_TYPE, formatPath(base, issue.path), `got ${show(valueAt(input, issue.path))}; expected ${expected}.`);
}

function modelOf(type: FieldType | undefined): ModelDef | undefined {
  if (type === undefined || typeof type === "string") return undefined;
  if ("model" in type) return models[type.model];
  return "list" in type ? modelOf(type.list) : undefined;
}

type Mutable = Record<string, unknown>;

/** The release's migrations, on the keys that were set. */
function migrate(settings: GivenSettings, base: string, rules: BuildRules, diagnostics: Diagnostic[]): void {
  const at = (key: string) => formatPath(base, [key]);
  const data = settings as Mutable;
  for (const name of fieldNames) {
    const deprecated = fields[name].deprecated;
    if (data[name] === undefined || data[name] === null || !deprecated || !semver.satisfies(rules.release, deprecated.releases)) continue;
    if (deprecated.onlyNonBoolean && typeof data[name] === "boolean") continue;
    const instead = name === "source_files" ? `write \`${sourceFlagsText(data[name] as string)}\`` : deprecated.instead;
    diagnostics.push(warning(codes.DEPRECATED_FIELD, at(name), `\`${name}\` is deprecated in ZenML ${rules.release}: ${instead}.`));
  }
  if (data["required_hub_plugins"] !== undefined && (data["required_hub_plugins"] as unknown[]).length > 0) {
    diagnostics.push(warning(codes.SETTING_IGNORED, at("required_hub_plugins"),
      "the ZenML Hub is gone, so these plugins are not installed (ZenML warns that they do not exist). List their packages in `requirements`."));
  }

  if (rules.codeDecision === "source-files") {
    // copy_files predates source_files: true = include, false = ignore.
    const copyFiles = data["copy_files"];
    if (copyFiles !== undefined && copyFiles !== null) {
      if (data["source_files"] !== undefined && data["source_files"] !== null) {
        diagnostics.push(warning(codes.CONFLICTING_FIELDS, at("copy_files"), "`copy_files` is ignored because `source_files` is set; remove it."));
      } else {
        data["source_files"] = copyFiles ? "include" : "ignore";
      }
    }
    return;
  }
  const mode = data["source_files"];
  if (mode === undefined || mode === null) return;
  const flags = ["allow_including_files_in_images", "allow_download_from_code_repository", "allow_download_from_artifact_store"] as const;
  if (flags.some((flag) => flag in data)) {
    diagnostics.push(warning(codes.CONFLICTING_FIELDS, at("source_files"), `\`source_files\` is ignored because an \`allow_*\` flag is set; remove it.`));
    return;
  }
  const [include, repository] = sourceFileFlags(mode as string);
  data["allow_including_files_in_images"] = include;
  data["allow_download_from_code_repository"] = repository;
  data["allow_download_from_artifact_store"] = false;
}

/** `source_files` as (include in the image, download from a code repository). */
function sourceFileFlags(mode: string): [boolean, boolean] {
  return [mode === "include" || mode === "download_or_include", mode === "download" || mode === "download_or_include"];
}

/** The `allow_*` flags that say what a `source_files` mode says. */
function sourceFlagsText(mode: string): string {
  const [include, repository] = sourceFileFlags(mode);
  return `allow_including_files_in_images: ${include}, allow_download_from_code_repository: ${repository}, allow_download_from_artifact_store: false`;
}

/** The release's checks across fields. */
function checkSettings(settings: GivenSettings, base: string, rules: BuildRules): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const at = (key: string) => formatPath(base, [key]);
  if (settings.skip_build && !settings.parent_image) {
    diagnostics.push(error(codes.SKIP_BUILD_WITHOUT_PARENT, at("skip_build"),
      "`skip_build: true` uses the parent image as is, but no `parent_image` is set. Set `parent_image` to a prebuilt image, or remove `skip_build`."));
  }
  if (settings.local_project_install_command && settings.allow_including_files_in_images === false && rules.codeDecision === "allow-flags") {
    diagnostics.push(error(codes.INSTALL_COMMAND_WITHOUT_FILES, at("local_project_install_command"),
      `${show(settings.local_project_install_command)} installs the local project, which needs the source files in the image, ` +
        "but `allow_including_files_in_images` is false. Set it to true, or remove the command."));
  }
  return diagnostics;
}

// ---------------------------------------------------------------------------------------------
// Merging and defaults

/**
 * Step settings over pipeline settings, as ZenML merges the keys that were set: maps merge
 * recursively, lists and scalars replace. With `mergeDropsNull` (pydantic's `exclude_none`), a
 * step's `null` for a field of a model leaves the pipeline's value; a `null` inside a map such as
 * `environment` is kept.
 */
export function mergeSettings(pipeline: GivenSettings, step: GivenSettings, rules: BuildRules): GivenSettings {
  return mergeModel(pipeline as Mutable, step as Mutable, fields, rules.mergeDropsNull) as GivenSettings;
}

function mergeModel(base: Mutable, over: Mutable, modelFields: Readonly<Record<string, FieldDef>>, dropNull: boolean): Mutable {
  const out: Mutable = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined || (dropNull && value === null)) continue;
    const previous = out[key];
    if (!isMap(previous) || !isMap(value)) out[key] = value;
    else {
      const model = modelOf(modelFields[key]?.type);
      out[key] = model ? mergeModel(previous, value, model.fields, dropNull) : mergeMaps(previous, value);
    }
  }
  return out;
}

/** `dict_utils.recursive_update`. */
function mergeMaps(base: Mutable, over: Mutable): Mutable {
  const out: Mutable = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const previous = out[key];
    out[key] = isMap(previous) && isMap(value) ? mergeMaps(previous, value) : value;
  }
  return out;
}

/**
 * Validates merged settings again, as ZenML does on every read of a step's settings: migrations
 * and checks run once more. Warnings were reported for the scopes already; errors are kept.
 */
export function revalidate(merged: GivenSettings, base: string, rules: BuildRules): ParsedSettings {
  const settings = structuredClone(merged);
  const diagnostics: Diagnostic[] = [];
  migrate(settings, base, rules, diagnostics);
  diagnostics.push(...checkSettings(settings, base, rules));
  return { settings, diagnostics: diagnostics.filter((d) => d.severity === "error") };
}

/** Every default of the release filled in; before `allow_*` existed they follow `source_files`. */
export function withDefaults(given: GivenSettings, rules: BuildRules): Settings {
  const out: Mutable = {};
  for (const name of fieldNames) {
    const def = fields[name];
    const value = (given as Mutable)[name];
    if (value !== undefined && value !== null) out[name] = value;
    else if (def.defaultByRelease) {
      const chosen = def.defaultByRelease.find((d) => d.releases === undefined || semver.satisfies(rules.release, d.releases))!.value;
      if (chosen !== null) out[name] = chosen;
    } else if (def.default !== undefined) out[name] = structuredClone(def.default);
  }
  if (rules.codeDecision === "source-files") {
    const [include, repository] = sourceFileFlags(out["source_files"] as string);
    out["allow_including_files_in_images"] = include;
    out["allow_download_from_code_repository"] = repository;
    out["allow_download_from_artifact_store"] = false;
  }
  return out as Settings;
}

/** The JSON Schema of DockerSettings, for editors (`dockwright schema`): every field of every release. */
export function settingsJsonSchema(): Record<string, unknown> {
  const newest = { pydantic: 2, release: "999.0.0" } as BuildRules;
  const properties: Record<string, unknown> = {};
  for (const name of fieldNames) {
    const def = fields[name];
    const schema = z.toJSONSchema(fieldSchema(def, newest), { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    delete schema["$schema"];
    const releases = def.extension ? "a Dockwright addition" : def.releases ? `ZenML ${def.releases}` : undefined;
    properties[name] = { description: `Expects ${def.expects}.${releases ? ` (${releases})` : ""}`, ...schema };
  }
  return { $schema: "https://json-schema.org/draft/2020-12/schema", title: "DockerSettings", type: "object", properties, additionalProperties: false };
}

export type { GivenSettings, Settings } from "./fields.js";
