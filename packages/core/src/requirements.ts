/**
 * The requirements resolver: reads requirement lines in pip's requirements-file format (PEP 508
 * requirements, PEP 440 versions, options, `-r` includes) and finds contradictions before any
 * build starts. The generated files keep ZenML's contents; the resolver only changes them where
 * the image could not install them otherwise.
 *
 * Pure: core touches no file system, so included files are read by the caller (`loadIncludes`
 * with the host's reader) and handed in.
 *
 * What it decides, for the image's target (never the host):
 * - Conflicts: requirements of one package that no version satisfies together. Only what is
 *   certain is reported: URLs, local paths, `===`, and markers that cannot be evaluated for the
 *   target are never flagged, and version ranges are widened where PEP 440 has fine print
 *   (pre-releases after `<`, post-releases after `>`, local labels), never narrowed. Within one
 *   file pip would fail: an error. Across files the later install replaces the earlier version,
 *   as in ZenML (where the user's pins win): a warning naming both.
 * - Local paths (`-e .`, `./lib`, `name @ file:...`) need the sources, so they go to a second
 *   file per origin, installed after the sources are copied, with the origin's global options.
 * - Includes are inlined: the generated file is copied alone, so `-r other.txt` would not be
 *   found in the image.
 */
import { posix } from "node:path";
import { compare, explain as parseVersion, satisfies, validRange, type Pep440Version } from "@renovatebot/pep440";
import { holdsCredential } from "./credentials.js";
import { codes, error, show, warning, type Diagnostic } from "./diagnostics.js";
import type { Platform, RequirementLine, RequirementsOrigin } from "./ir.js";

export type RequirementSource = {
  /** The generated file the lines belong to; sources are given in install order, one per file. */
  origin: RequirementsOrigin;
  /** Requirements-file text: a file's contents, a command's output, or a single requirement. */
  text: string;
  /** Where the text came from, in messages: a settings path, or `integration mlflow`. */
  from: string;
  /** The text's file as the settings name it (absolute, or relative to their base), when it is one: its `-r` includes resolve beside it. */
  file?: string;
  /** The settings path of each line, when the text is a list of single lines. */
  linePaths?: readonly string[];
};

/** What markers are evaluated for: the image, not the machine that compiles. */
export type RequirementTarget = { pythonVersion: string; platform: Platform };

/** A line of a generated file and every place it came from (several after a merge). */
export type ResolvedLine = RequirementLine;

export type ResolvedFile = {
  origin: RequirementsOrigin;
  /** Holds local-path requirements: install it after the sources are copied. */
  afterSources: boolean;
  /** The file's contents: ZenML's text as it is, unless a line had to move or an include was inlined. */
  text: string;
  lines: ResolvedLine[];
};

export type ResolvedRequirements = { files: ResolvedFile[]; diagnostics: Diagnostic[] };

/** Reads a file (absolute, or relative to the settings' base); undefined when it does not exist. */
export type IncludeReader = (path: string, from: string) => Promise<string | undefined>;

/** PEP 503 normalized project name. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Characters of one requirements text: far beyond any real environment (pip freeze of thousands of packages is ~100 KiB). */
const maxTextLength = 4 * 2 ** 20;

/**
 * Resolves requirement sources (given in install order) into generated files. `includes` maps
 * the paths of files named by `-r` to their text; see `loadIncludes`.
 */
export function resolveRequirements(
  sources: readonly RequirementSource[],
  target: RequirementTarget,
  includes: ReadonlyMap<string, string> = new Map(),
): ResolvedRequirements {
  const diagnostics: Diagnostic[] = [];
  const tooLarge = [...sources, ...[...includes].map(([file, text]) => ({ text, from: file }))].filter((s) => s.text.length > maxTextLength);
  if (tooLarge.length > 0) {
    // Resolving keeps every line's provenance: bounded input keeps memory bounded.
    return {
      files: [],
      diagnostics: tooLarge.map((s) => error(codes.INVALID_REQUIREMENT, s.from,
        `the requirements of ${s.from} are ${Math.round(s.text.length / 2 ** 20)} MiB, more than the ${maxTextLength / 2 ** 20} MiB Dockwright reads. Split them, or install the bulk from a prebuilt parent image.`)),
    };
  }
  const entries = expand(sources, includes, diagnostics);
  for (const entry of entries) {
    const unsafe = unsafeLine(entry);
    if (unsafe) {
      diagnostics.push(unsafe);
      entry.kind = "dropped";
    }
    if (entry.kind !== "requirement") continue;
    const parsed = parseRequirement(entry.text);
    if (typeof parsed === "string") {
      diagnostics.push(error(codes.INVALID_REQUIREMENT, entry.path,
        `${show(entry.text)} (${entry.at}) is not a valid requirement: ${parsed}. Write it as in a requirements file, e.g. \`torch>=2,<3\`, \`pkg @ https://host/pkg.whl\` or \`-e ./lib\`.`));
      entry.kind = "dropped";
    } else if (parsed.kind === "local" && /^(\/|~|(\w+\+)?file:\/\/)/.test(parsed.location)) {
      // Typical of `pip freeze` with the project installed in development mode.
      diagnostics.push(warning(codes.INVALID_PATH, entry.path,
        `${show(entry.text)} (${entry.at}) points at an absolute path on this machine, which the image does not have, so it is left out. Use a path relative to the source root, or install the project with \`local_project_install_command\`.`));
      entry.kind = "dropped";
    } else {
      entry.requirement = parsed;
    }
  }
  diagnostics.push(...findConflicts(entries, markerEnvironment(target)));
  return { files: buildFiles(sources, entries), diagnostics };
}

/**
 * A line that cannot go into a generated file: one that holds a credential (the file is copied
 * into the image), that ends in a backslash after its comment (pip would join the next line of a
 * rewritten file to it), or that starts with a byte order mark (pip drops one at the start of a
 * file and keeps it elsewhere, so the line would change with its place).
 */
function unsafeLine(entry: Entry): Diagnostic | undefined {
  if (holdsCredential(entry.text)) {
    return error(codes.CREDENTIAL_IN_URL, entry.path,
      `${show(entry.text)} (${entry.at}) holds a credential in a URL, and the requirements file is copied into the image, where anyone who pulls it can read it. ` +
        "Write the credential as variables, which pip and uv replace when they install (e.g. `https://${INDEX_USER}:${INDEX_TOKEN}@host/simple`), " +
        "and pass them as build secrets: `secrets: [{id: index-token, source_env: INDEX_TOKEN, env: INDEX_TOKEN}]`.");
  }
  if (entry.text.endsWith("\\")) {
    return error(codes.INVALID_REQUIREMENT, entry.path,
      `${show(entry.text)} (${entry.at}) ends with a backslash, which pip would join with the next line of the generated requirements file. Remove it.`);
  }
  if (entry.text.startsWith("\ufeff")) {
    return error(codes.INVALID_REQUIREMENT, entry.path,
      `${show(entry.text)} (${entry.at}) starts with a byte order mark (U+FEFF), which pip drops at the start of a file and keeps elsewhere. Remove it.`);
  }
  return undefined;
}

/**
 * Reads every file that the sources include with `-r`, and the files those include, with the
 * host's reader. Missing files are left out; `resolveRequirements` reports them.
 */
export async function loadIncludes(sources: readonly RequirementSource[], read: IncludeReader): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const tried = new Set<string>();
  const pending = sources.map((s) => ({ text: s.text, file: s.file, from: s.from }));
  for (let index = 0, next = pending[0]; next; next = pending[++index]) {
    for (const { text } of logicalLines(next.text)) {
      const option = parseOption(text);
      if (option?.kind !== "include" || isUrl(option.value)) continue;
      const path = includePath(option.value, next.file);
      if (tried.has(path)) continue;
      tried.add(path);
      const contents = await read(path, next.from);
      if (contents !== undefined) {
        files.set(path, contents);
        pending.push({ text: contents, file: path, from: next.from });
      }
    }
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// Lines and options

type Entry = {
  /** Dropped: invalid, or not installable in the image (reported). */
  kind: "requirement" | "option" | "dropped";
  /** The logical line as written: continuations joined, comment removed, trimmed. */
  text: string;
  /** Location for messages: `file:line (from)` or `from`. */
  at: string;
  /** The settings path a diagnostic about the entry names. */
  path: string;
  source: RequirementSource;
  requirement?: Requirement;
  /** From a file the source includes with `-r`: the source's text is rewritten. */
  included?: boolean;
};

/**
 * Where pip breaks a requirements file into lines: Python's `str.splitlines()` (pip's
 * `req_file.preprocess`), so `\r`, `\v`, `\f`, `\x1c`-`\x1e`, U+0085, U+2028 and U+2029 end a line
 * as `\n` and `\r\n` do. Read a line any other way and pip installs a requirement no plan names.
 */
const pipLineBreak = /\r\n|[\n\v\f\r\x1c-\x1e\x85\u2028\u2029]/;

/** Python's whitespace (`str.isspace()`, and `\s` in pip's patterns); JavaScript's `\s` differs (U+FEFF in, `\x1c`-`\x1f` and U+0085 out). */
const space = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/** pip's COMMENT_RE, `(^|\s+)#.*$`: with one blank instead of a run, the same cut in linear time. */
const comment = new RegExp(`(^|[${space}])#.*$`);
const commentLine = new RegExp(`^[${space}]*#`);
const isSpace = new RegExp(`[${space}]`);
const isBackslash = /\\/;

/**
 * Python's `str.strip()` (of whitespace, or of the characters `chars` matches). A loop, not
 * `/\s+$/`: that pattern is quadratic in a long run of them before other text.
 */
function strip(text: string, chars = isSpace): string {
  let start = 0;
  let end = text.length;
  while (start < end && chars.test(text[start]!)) start++;
  while (end > start && chars.test(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/**
 * pip's logical lines (`join_lines`, then `ignore_comments`), numbered as pip numbers them: a
 * physical line ending in `\` that is not a comment continues on the next one (pip strips the
 * backslashes at both ends of it); a comment starts at a `#` at the start or after whitespace;
 * lines are stripped of Python's whitespace, and blank ones dropped.
 */
export function* logicalLines(text: string): Generator<{ text: string; line: number }> {
  // pip decodes a file without its byte order mark.
  const physical = (text.startsWith("\ufeff") ? text.slice(1) : text).split(pipLineBreak);
  if (physical[physical.length - 1] === "") physical.pop(); // splitlines() makes no line after a final break
  let joined: string[] = [];
  let first = 0;
  const logical = (line: string, number: number) => {
    const content = strip(line.replace(comment, ""));
    return content === "" ? undefined : { text: content, line: number };
  };
  for (const [index, line] of physical.entries()) {
    const isComment = commentLine.test(line);
    if (line.endsWith("\\") && !isComment) {
      if (joined.length === 0) first = index + 1;
      joined.push(strip(line, isBackslash));
      continue;
    }
    // Parts are joined once: appending to a growing string would be quadratic in a long run of continuations.
    const whole = joined.length > 0 ? logical(`${joined.join("")}${isComment ? " " : ""}${line}`, first) : logical(line, index + 1);
    joined = [];
    if (whole) yield whole;
  }
  if (joined.length > 0) {
    const whole = logical(joined.join(""), first);
    if (whole) yield whole;
  }
}

type Option = { kind: "include" | "constraint" | "editable" | "other"; value: string };

const optionKinds: Record<string, Option["kind"]> = {
  "-r": "include",
  "--requirement": "include",
  "-c": "constraint",
  "--constraint": "constraint",
  "-e": "editable",
  "--editable": "editable",
};

/** An option line (`-r x`, `--index-url=y`, `-ex`); undefined for a requirement. */
function parseOption(text: string): Option | undefined {
  if (!text.startsWith("-")) return undefined;
  const match = text.startsWith("--") ? /^(--[\w-]+)\s*=?\s*(.*)$/.exec(text) : /^(-\w)\s*=?\s*(.*)$/.exec(text);
  const value = (match?.[2] ?? "").replace(/^(["'])(.*)\1$/, "$2");
  return { kind: optionKinds[match?.[1] ?? ""] ?? "other", value };
}

/** The path of an include: absolute, or relative to the including file (a list's to the settings' base). */
function includePath(value: string, file: string | undefined): string {
  const normalized = value.replaceAll("\\", "/");
  return posix.normalize(normalized.startsWith("/") || !file ? normalized : posix.join(posix.dirname(file), normalized));
}

/**
 * The entries of every source, with `-r` includes inlined in place. A file is inlined once per
 * source: a second include of it adds nothing (pip would read the same lines again), and
 * inlining it every time would let a few files that include each other twice grow exponentially.
 * Iterative, with a stack of open files: an include chain or a file of any length fits.
 */
function expand(sources: readonly RequirementSource[], includes: ReadonlyMap<string, string>, diagnostics: Diagnostic[]): Entry[] {
  const entries: Entry[] = [];
  for (const source of sources) {
    const inlined = new Set<string>();
    /** The files being read, outermost first: including one of them again is a cycle. */
    const open = new Set<string>(source.file === undefined ? [] : [source.file]);
    const stack = [{ file: source.file, lines: logicalLines(source.text) }];
    while (stack.length > 0) {
      const { file, lines } = stack[stack.length - 1]!;
      const next = lines.next();
      if (next.done) {
        stack.pop();
        if (file !== undefined && stack.length > 0) open.delete(file);
        continue;
      }
      const line = next.value;
      const settingPath = (file === undefined ? source.linePaths?.[line.line - 1] : undefined) ?? source.from;
      const at = file ? `${file}:${line.line} (${source.from})` : settingPath;
      const entry: Entry = { kind: "requirement", text: line.text, at, path: settingPath, source, ...(stack.length > 1 ? { included: true } : {}) };
      const option = parseOption(line.text);
      if (option?.kind === "constraint") {
        diagnostics.push(error(codes.INVALID_REQUIREMENT, settingPath,
          `${show(line.text)} (${at}) names a constraints file, which the image cannot read: generated requirements files are installed before the sources are copied. Write its pins into the requirements instead.`));
        entries.push({ ...entry, kind: "dropped" });
      } else if (option?.kind === "include" && !isUrl(option.value)) {
        const path = includePath(option.value, file);
        const included = includes.get(path);
        if (open.has(path)) {
          diagnostics.push(error(codes.INVALID_REQUIREMENT, settingPath, `${show(line.text)} (${at}) includes ${show(path)}, which includes it again. Remove one of the includes.`));
        } else if (inlined.has(path)) {
          // Already inlined for this source.
        } else if (included === undefined) {
          diagnostics.push(error(codes.FILE_NOT_FOUND, settingPath,
            `${show(line.text)} (${at}) includes ${show(path)}, which does not exist. Fix the path (it is relative to the including file).`));
        } else {
          inlined.add(path);
          open.add(path);
          stack.push({ file: path, lines: logicalLines(included) });
        }
      } else {
        // Remote includes (`-r https://...`) are kept: pip fetches them during the build.
        entries.push(option && option.kind !== "editable" ? { ...entry, kind: "option" } : entry);
      }
    }
  }
  return entries;
}

function isUrl(text: string): boolean {
  return /^[A-Za-z][\w+.-]*:\/\//.test(text);
}

// ---------------------------------------------------------------------------------------------
// Requirements (PEP 508, plus pip's bare paths and URLs)

/** A version specifier clause and the versions it allows. */
type Clause = { op: string; version: string; allowed: VersionSet };

type Named = {
  kind: "named";
  name: string;
  extras: string[];
  clauses: Clause[];
  /** The environment marker's text; valid, as parsing checked. */
  marker?: string;
};

type Requirement =
  | Named
  /** A remote URL (`name @ https://...`, VCS): cannot be compared statically. */
  | { kind: "url" }
  /** A local path or file URL: installed after the sources are copied. */
  | { kind: "local"; location: string };

const namePattern = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const extraPattern = new RegExp(`${namePattern.source}$`);
// One run of blanks before the `@`: two adjacent `\s*` would backtrack quadratically over a long one.
const directReference = /^[A-Za-z0-9][\w.-]*\s*(?:\[[^\]]*\]\s*)?@/;
const archive = /\.(whl|tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz|tar|zip)$/i;
const fileUrl = /^(\w+\+)?file:/;
const localPath = /^(\.|\/|~|[A-Za-z]:[\\/])/;

/** pip: per-requirement options (`--hash=...`) start at the first word beginning with `-`. */
function splitOptions(line: string): { requirement: string } {
  const words = line.split(" ");
  const cut = words.findIndex((word, i) => i > 0 && word.startsWith("-"));
  return { requirement: cut < 0 ? line : words.slice(0, cut).join(" ").trim() };
}

/** `path[extras]` without `[extras]`; as `/\[[^\]]*\]$/` would cut it, without its quadratic scan of many `[`. */
function withoutExtras(location: string): string {
  if (!location.endsWith("]")) return location;
  const open = location.indexOf("[", location.lastIndexOf("]", location.length - 2) + 1);
  return open >= 0 && open < location.length - 1 ? location.slice(0, open) : location;
}

/** A requirement, or why it is not one. */
function parseRequirement(line: string): Requirement | string {
  const option = parseOption(line);
  const editable = option?.kind === "editable";
  const { requirement: text } = option && editable ? { requirement: option.value } : splitOptions(line);

  // pip's bare paths and URLs, optionally with `[extras]` and `; marker`.
  const location = withoutExtras((isUrl(text) ? text.split(/(?<=\s);/) : text.split(";"))[0]!.trim());
  const bare = !directReference.test(text) && (isUrl(location) || localPath.test(location) || archive.test(location) || location.includes("/"));
  if (editable || bare) return isUrl(location) && !fileUrl.test(location) ? { kind: "url" } : { kind: "local", location };

  const name = namePattern.exec(text)?.[0];
  if (!name) return "it does not start with a project name";
  let rest = text.slice(name.length).trimStart();
  let extras: string[] = [];
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0) return "its extras are missing a closing `]`";
    extras = rest.slice(1, end).split(",").map((e) => e.trim()).filter((e) => e !== "");
    const bad = extras.find((e) => !extraPattern.test(e));
    if (bad !== undefined) return `${show(bad)} is not an extra name`;
    rest = rest.slice(end + 1).trimStart();
  }
  if (rest.startsWith("@")) {
    const [url = "", markerText] = rest.slice(1).trim().split(/(?<=\s);/, 2).map((part) => part.trim());
    if (url === "" || /\s/.test(url)) return "a direct reference needs one URL after `@`";
    const invalid = markerText === undefined ? undefined : checkMarker(markerText);
    if (invalid) return invalid;
    return fileUrl.test(url) || localPath.test(url) ? { kind: "local", location: url } : { kind: "url" };
  }
  const semicolon = rest.indexOf(";");
  const specifiers = (semicolon < 0 ? rest : rest.slice(0, semicolon)).trim().replace(/^\((.*)\)$/, "$1");
  const marker = semicolon < 0 ? undefined : rest.slice(semicolon + 1).trim();
  const invalid = marker === undefined ? undefined : checkMarker(marker);
  if (invalid) return invalid;
  const clauses: Clause[] = [];
  for (const part of specifiers === "" ? [] : specifiers.split(",")) {
    const clause = parseClause(part.trim());
    if (typeof clause === "string") return clause;
    clauses.push(clause);
  }
  return { kind: "named", name: normalizeName(name), extras, clauses, ...(marker ? { marker } : {}) };
}

function parseClause(text: string): Clause | string {
  const match = /^(===|==|!=|<=|>=|~=|<|>)\s*(\S+)$/.exec(text);
  if (!match) {
    return /^=[^=]/.test(text)
      ? `${show(text)} uses \`=\`, which is not a version operator (write \`==\`)`
      : `${show(text)} is not a version specifier (an operator \`==\`, \`!=\`, \`<=\`, \`>=\`, \`<\`, \`>\`, \`~=\` or \`===\`, then a version)`;
  }
  const [, op = "", version = ""] = match;
  if (op === "===") return { op, version, allowed: everything };
  const wildcard = version.endsWith(".*");
  const parsed = parseVersion(wildcard ? version.slice(0, -2) : version);
  if (!parsed) return `${show(version)} is not a PEP 440 version`;
  if (wildcard && op !== "==" && op !== "!=") return `${show(op + version)}: only \`==\` and \`!=\` take a \`.*\` version`;
  if (parsed.local && (wildcard || (op !== "==" && op !== "!="))) return `${show(op + version)}: a local version label (\`+...\`) is allowed only with \`==\` and \`!=\``;
  if (op === "~=" && parsed.release.length < 2) return `${show(op + version)}: \`~=\` needs at least two release numbers, e.g. \`~=2.2\``;
  return { op, version, allowed: clauseSet(op, wildcard, parsed) };
}

// ---------------------------------------------------------------------------------------------
// Version sets: unions of intervals, compared with PEP 440 ordering

type Bound = { version: string; inclusive: boolean };
/** Missing bounds are unbounded. */
type Interval = { low?: Bound; high?: Bound };
type VersionSet = Interval[];

const everything: VersionSet = [{}];

/** The lowest version that starts with `release`: `1.12` -> `1.12.dev0`. */
function prefixStart(epoch: number, release: readonly number[]): string {
  return `${epoch ? `${epoch}!` : ""}${release.join(".")}.dev0`;
}

/** Versions a clause allows, widened where PEP 440 has exceptions, so conflicts found are certain. */
function clauseSet(op: string, wildcard: boolean, parsed: Pep440Version): VersionSet {
  const point = parsed.public;
  const prefix = (release: readonly number[]): Interval => {
    const next = [...release.slice(0, -1), release[release.length - 1]! + 1];
    return { low: { version: prefixStart(parsed.epoch, release), inclusive: true }, high: { version: prefixStart(parsed.epoch, next), inclusive: false } };
  };
  switch (op) {
    case "==":
      return [wildcard ? prefix(parsed.release) : { low: { version: point, inclusive: true }, high: { version: point, inclusive: true } }];
    case "!=": {
      if (parsed.local) return everything;
      const hole = wildcard ? prefix(parsed.release) : { low: { version: point, inclusive: true }, high: { version: point, inclusive: true } };
      return [{ high: { ...hole.low!, inclusive: false } }, { low: { ...hole.high!, inclusive: !hole.high!.inclusive } }];
    }
    case "~=":
      return [{ low: { version: point, inclusive: true }, high: prefix(parsed.release.slice(0, -1)).high! }];
    case "<":
    case "<=":
      return [{ high: { version: point, inclusive: op === "<=" } }];
    default:
      return [{ low: { version: point, inclusive: op === ">=" } }];
  }
}

/** PEP 440 ordering of two versions. */
type Order = (a: string, b: string) => number;

/**
 * PEP 440 order of the versions that bound the requirements' clauses. The library parses both
 * versions on every comparison, and intersections compare the same versions again and again:
 * they are sorted once (equal ones, `1.0` and `1.0.0`, share a rank) and compared by rank.
 */
function versionOrder(requirements: readonly Named[]): Order {
  const versions = new Set<string>();
  for (const requirement of requirements) {
    for (const { allowed } of requirement.clauses) {
      for (const { low, high } of allowed) {
        if (low) versions.add(low.version);
        if (high) versions.add(high.version);
      }
    }
  }
  const sorted = [...versions].sort(compare);
  const rank = new Map<string, number>();
  sorted.forEach((version, i) => rank.set(version, i > 0 && compare(sorted[i - 1]!, version) === 0 ? rank.get(sorted[i - 1]!)! : i));
  return (a, b) => rank.get(a)! - rank.get(b)!;
}

/**
 * Intervals a set may hold. Each `!=` splits one; past this many the set is widened to every
 * version, which forgets constraints (so finds fewer conflicts, never a false one) and keeps
 * each intersection, and so the whole check, linear in the number of requirements.
 */
const maxIntervals = 16;

function intersect(a: VersionSet, b: VersionSet, compare: Order): VersionSet {
  const out: VersionSet = [];
  for (const x of a) {
    for (const y of b) {
      const low = tighter(x.low, y.low, 1, compare);
      const high = tighter(x.high, y.high, -1, compare);
      const order = low && high ? compare(low.version, high.version) : -1;
      if (order < 0 || (order === 0 && low!.inclusive && high!.inclusive)) {
        const interval: Interval = {};
        if (low) interval.low = low;
        if (high) interval.high = high;
        out.push(interval);
      }
    }
  }
  return out.length > maxIntervals ? everything : out;
}

/** The stricter of two bounds: the larger low bound (sign 1) or the smaller high bound (sign -1). */
function tighter(a: Bound | undefined, b: Bound | undefined, sign: 1 | -1, compare: Order): Bound | undefined {
  if (!a || !b) return a ?? b;
  const order = compare(a.version, b.version) * sign;
  if (order !== 0) return order > 0 ? a : b;
  return { version: a.version, inclusive: a.inclusive && b.inclusive };
}

function requirementSet(requirement: Named, compare: Order): VersionSet {
  return requirement.clauses.reduce((set, clause) => intersect(set, clause.allowed, compare), everything);
}

// ---------------------------------------------------------------------------------------------
// Conflicts

/**
 * Per package: an error when the requirements of one file contradict each other (pip fails), a
 * warning when a later file's contradict an earlier file's (the later install replaces the version).
 */
function findConflicts(entries: readonly Entry[], environment: MarkerEnvironment): Diagnostic[] {
  // Exports repeat a few markers on many lines: evaluate each once.
  const evaluated = new Map<string, boolean | undefined>();
  const applies = (marker: string): boolean | undefined => {
    if (!evaluated.has(marker)) evaluated.set(marker, evaluate(parseMarker(marker) as Marker, environment));
    return evaluated.get(marker);
  };
  const checked: { entry: Entry; requirement: Named }[] = [];
  for (const entry of entries) {
    const requirement = entry.requirement;
    if (requirement?.kind !== "named" || requirement.clauses.length === 0) continue;
    if (requirement.marker && applies(requirement.marker) !== true) continue;
    checked.push({ entry, requirement });
  }
  const order = versionOrder(checked.map((c) => c.requirement));
  // Package -> its requirements, grouped by file, files in install order.
  const byName = new Map<string, Map<RequirementSource, { entry: Entry; set: VersionSet }[]>>();
  for (const { entry, requirement } of checked) {
    const files = byName.get(requirement.name) ?? new Map();
    byName.set(requirement.name, files);
    const list = files.get(entry.source) ?? [];
    files.set(entry.source, list);
    list.push({ entry, set: requirementSet(requirement, order) });
  }
  const diagnostics: Diagnostic[] = [];
  const describe = (item: { entry: Entry }) => `as ${show(splitOptions(item.entry.text).requirement)} by ${item.entry.at}`;
  // A message names a few requirements, however many there are.
  const describeAll = (items: readonly { entry: Entry }[]) => [...items.slice(0, 3).map(describe), ...(items.length > 3 ? [`${items.length - 3} more times`] : [])];
  for (const [name, files] of byName) {
    const installed: { items: { entry: Entry; set: VersionSet }[]; allowed: VersionSet }[] = [];
    for (const list of files.values()) {
      let allowed = everything;
      let contradicted = false;
      for (const [index, item] of list.entries()) {
        allowed = intersect(allowed, item.set, order);
        if (allowed.length > 0) continue;
        // Name one earlier requirement that alone contradicts this one, else all earlier ones.
        const earlier = list.slice(0, index);
        const partner = earlier.find((other) => intersect(other.set, item.set, order).length === 0);
        const involved = [...describeAll(partner ? [partner] : earlier), describe(item)];
        const last = involved.pop()!;
        diagnostics.push(error(codes.REQUIREMENTS_CONFLICT, (partner ?? earlier[0]!).entry.path,
          `${name} is required ${involved.join(", ")} and ${last}, one file that pip installs at once, and no version satisfies ${involved.length > 1 ? "all of them" : "both"}. Change or remove one of them.`));
        contradicted = true;
        break;
      }
      if (contradicted) continue;
      const replaced = installed.find((before) => intersect(before.allowed, allowed, order).length === 0);
      if (replaced) {
        diagnostics.push(warning(codes.REQUIREMENTS_CONFLICT, list[0]!.entry.path,
          `${name} is required ${describeAll(list).join(", ")}, which no version of the earlier ${describeAll(replaced.items).join(", ")} satisfies. ` +
            "ZenML installs the files in order, so this later requirement wins and replaces the version; what the earlier file installed for it may break. Align the two."));
      }
      installed.push({ items: list, allowed });
    }
  }
  return diagnostics;
}

// ---------------------------------------------------------------------------------------------
// The generated files

/** One file per source, with the source's text; local paths move to a second file installed after the sources. */
function buildFiles(sources: readonly RequirementSource[], entries: readonly Entry[]): ResolvedFile[] {
  const files: ResolvedFile[] = [];
  const after: ResolvedFile[] = [];
  for (const source of sources) {
    const mine = entries.filter((entry) => entry.source === source);
    const options = mine.filter((entry) => entry.kind === "option");
    const local = mine.filter((entry) => entry.requirement?.kind === "local");
    const rest = mine.filter((entry) => entry.kind === "requirement" && entry.requirement?.kind !== "local");
    const rewritten = local.length > 0 || mine.some((entry) => entry.kind === "dropped" || entry.included);
    const line = (entry: Entry): ResolvedLine => ({ text: entry.text, from: [entry.at] });
    const text = (list: readonly Entry[]) => list.map((entry) => `${entry.text}\n`).join("");
    if (!rewritten) files.push({ origin: source.origin, afterSources: false, text: source.text, lines: [...options, ...rest].map(line) });
    else if (rest.length > 0) files.push({ origin: source.origin, afterSources: false, text: text([...options, ...rest]), lines: [...options, ...rest].map(line) });
    if (local.length > 0) after.push({ origin: source.origin, afterSources: true, text: text([...options, ...local]), lines: [...options, ...local].map(line) });
  }
  return [...files, ...after];
}

// ---------------------------------------------------------------------------------------------
// Markers (PEP 508), evaluated for the target with three values: true, false, unknown

type Operand = { variable: string } | { literal: string };
/** `and` and `or` hold every operand of a chain: a long chain is a long list, not a deep tree. */
type Marker = { op: "and" | "or"; items: Marker[] } | { left: Operand; op: string; right: Operand };

type MarkerEnvironment = Record<string, string | undefined> & { python_version: string };

/** Parentheses nest at most this deep in a marker; the parser recurses once per level. */
const maxMarkerDepth = 32;

/** Older spellings that pip still accepts. */
const aliases: Record<string, string> = {
  "os.name": "os_name",
  "sys.platform": "sys_platform",
  "platform.version": "platform_version",
  "platform.machine": "platform_machine",
  "platform.python_implementation": "platform_python_implementation",
  python_implementation: "platform_python_implementation",
};

const variables = new Set([
  "python_version", "python_full_version", "os_name", "sys_platform", "platform_release", "platform_system",
  "platform_version", "platform_machine", "platform_python_implementation", "implementation_name",
  "implementation_version", "extra",
]);

/** `uname -m` of each Docker architecture (and variant). */
const machines: Record<string, string> = {
  amd64: "x86_64", arm64: "aarch64", "arm/v6": "armv6l", "arm/v7": "armv7l", arm: "armv7l", "386": "i686",
  ppc64le: "ppc64le", s390x: "s390x", riscv64: "riscv64", mips64le: "mips64",
};

/**
 * What is known about the image. Unknown (undefined): the patch version of Python, the kernel,
 * and the interpreter implementation (the parent image may hold PyPy). `extra` is empty, as pip
 * evaluates requirements-file markers.
 */
function markerEnvironment({ pythonVersion, platform }: RequirementTarget): MarkerEnvironment {
  const windows = platform.os === "windows";
  const arch = platform.variant ? `${platform.architecture}/${platform.variant}` : platform.architecture;
  return {
    python_version: pythonVersion,
    os_name: windows ? "nt" : "posix",
    sys_platform: windows ? "win32" : "linux",
    platform_system: windows ? "Windows" : "Linux",
    platform_machine: windows ? platform.architecture.toUpperCase() : (machines[arch] ?? machines[platform.architecture]),
    extra: "",
  };
}

/** Why a marker is not one, or undefined when it is. */
function checkMarker(text: string): string | undefined {
  const marker = parseMarker(text);
  return typeof marker === "string" ? marker : undefined;
}

/** A marker, or why it is not one. */
function parseMarker(text: string): Marker | string {
  // No leading \s* in the pattern: a global match skips blanks anyway, and it would make a long blank run quadratic.
  const tokens = text.match(/'[^']*'|"[^"]*"|===|==|!=|<=|>=|~=|<|>|\(|\)|[A-Za-z_][\w.]*|\S/g) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const fail = (what: string) => `the marker ${show(text.trim())} ${what}`;

  const operand = (): Operand | string => {
    const token = peek();
    if (token === undefined) return fail("ends too early");
    position++;
    if (/^['"]/.test(token)) return { literal: token.slice(1, -1) };
    const variable = aliases[token] ?? token;
    return variables.has(variable) ? { variable } : fail(`uses ${show(token)}, which is not a marker variable`);
  };
  let depth = 0;
  const comparison = (): Marker | string => {
    if (peek() === "(") {
      if (++depth > maxMarkerDepth) return fail(`nests parentheses deeper than ${maxMarkerDepth} levels`);
      position++;
      const inner = or();
      depth--;
      if (typeof inner === "string") return inner;
      if (tokens[position++] !== ")") return fail("is missing a `)`");
      return inner;
    }
    const left = operand();
    if (typeof left === "string") return left;
    let op = tokens[position++] ?? "";
    if (op === "not" && peek() === "in") op = `not ${tokens[position++]}`;
    if (!/^(===|==|!=|<=|>=|~=|<|>|in|not in)$/.test(op)) return fail(`has ${show(op)} where a comparison operator belongs`);
    const right = operand();
    return typeof right === "string" ? right : { left, op, right };
  };
  const chain = (keyword: "and" | "or", next: () => Marker | string) => (): Marker | string => {
    const first = next();
    if (typeof first === "string" || peek() !== keyword) return first;
    const items = [first];
    while (peek() === keyword) {
      position++;
      const item = next();
      if (typeof item === "string") return item;
      items.push(item);
    }
    return { op: keyword, items };
  };
  const and = chain("and", comparison);
  const or = chain("or", and);
  const marker = or();
  if (typeof marker !== "string" && position < tokens.length) return fail(`has ${show(tokens[position])} where none belongs`);
  return marker;
}

function evaluate(marker: Marker, environment: MarkerEnvironment): boolean | undefined {
  if ("items" in marker) {
    // Three-valued: `and` is false if any item is, true if all are; `or` the other way round.
    const [decisive, other] = marker.op === "and" ? [false, true] : [true, false];
    let known = true;
    for (const item of marker.items) {
      const value = evaluate(item, environment);
      if (value === decisive) return decisive;
      if (value === undefined) known = false;
    }
    return known ? other : undefined;
  }
  const { left, op, right } = marker as Extract<Marker, { left: Operand; right: Operand }>;
  const full = [left, right].some((o) => "variable" in o && o.variable === "python_full_version");
  if (full) {
    // Decidable for ordering against every patch release of the target's X.Y alike.
    if (!/^[<>]=?$/.test(op)) return undefined;
    const results = ["0", "999"].map((patch) => compareMarker(left, op, right, { ...environment, python_full_version: `${environment.python_version}.${patch}` }));
    return results[0] === results[1] ? results[0] : undefined;
  }
  return compareMarker(left, op, right, environment);
}

function compareMarker(left: Operand, op: string, right: Operand, environment: MarkerEnvironment): boolean | undefined {
  const value = (o: Operand) => ("literal" in o ? o.literal : environment[o.variable]);
  const a = value(left);
  const b = value(right);
  if (a === undefined || b === undefined) return undefined;
  if (op === "in") return b.includes(a);
  if (op === "not in") return !b.includes(a);
  // PEP 508: compare as PEP 440 versions when both sides are, else as strings.
  if (parseVersion(a) && validRange(`${op}${b}`)) return satisfies(a, `${op}${b}`, { prereleases: true });
  switch (op) {
    case "==": return a === b;
    case "!=": return a !== b;
    case "<": return a < b;
    case "<=": return a <= b;
    case ">": return a > b;
    case ">=": return a >= b;
    default: return undefined;
  }
}
