/**
 * Reading a run configuration file (YAML, or JSON, which is YAML) within bounds: its size, its
 * nesting and its aliases are limited, so a hostile file fails with a message instead of
 * exhausting memory, the stack or the CPU. Scalars resolve as PyYAML's SafeLoader (ZenML's)
 * resolves them: YAML 1.1 booleans and octals, floats only with a dot, dates as text.
 */
import { isUtf8 } from "node:buffer";
import { readFile, stat } from "node:fs/promises";
import { PythonFloat } from "@dockwright/core";
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node, type ScalarTag, type Tags } from "yaml";

/** PyYAML's implicit float: a dot is required (`1e3` is a string), `.inf` and `.nan`, base 60. */
const pyyamlFloat: ScalarTag = {
  tag: "tag:yaml.org,2002:float",
  default: true,
  identify: (value) => value instanceof PythonFloat,
  test: /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  resolve(text) {
    const clean = text.replaceAll("_", "").toLowerCase();
    if (clean.endsWith("inf")) return clean.startsWith("-") ? -Infinity : Infinity;
    if (clean === ".nan") return NaN;
    const value = clean.includes(":")
      ? clean.split(":").reduce((sum, part) => sum * 60 + Math.abs(Number(part)), 0) * (clean.startsWith("-") ? -1 : 1)
      : Number(clean);
    // `1.0` stays a float, as Python prints it.
    return Number.isInteger(value) ? new PythonFloat(value) : value;
  },
};

/** PyYAML's implicit bool: these words only (not `y` or `n`). */
const pyyamlBool: ScalarTag = {
  tag: "tag:yaml.org,2002:bool",
  default: true,
  identify: (value) => typeof value === "boolean",
  test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  resolve: (text) => /^(?:yes|true|on)$/i.test(text),
};

function pyyamlTags(tags: Tags): Tags {
  const replaced = new Set(["tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"]);
  return [pyyamlBool, pyyamlFloat, ...tags.filter((t) => typeof t === "string" || !replaced.has(t.tag))];
}

/** A run configuration is a few kilobytes; 100,000 environment variables are under 3 MiB. */
export const maxConfigBytes: number = 16 * 1024 * 1024;
/** Far deeper than any run configuration; the YAML reader recurses once per level. */
const maxDepth = 64;
/** Aliases that each expand a large node multiply the size of the value (the "billion laughs"). */
const maxAliasCount = 100;

export async function loadConfig(file: string): Promise<{ value: unknown } | { message: string }> {
  const invalid = (reason: string) => ({ message: `the configuration ${JSON.stringify(file)} is not valid YAML or JSON: ${reason}` });
  let bytes: Buffer;
  try {
    const { size } = await stat(file);
    if (size > maxConfigBytes) {
      return { message: `the configuration ${JSON.stringify(file)} holds ${size} bytes, more than the ${maxConfigBytes} (16 MiB) a run configuration may have. Pass the right file.` };
    }
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { message: `cannot read the configuration ${JSON.stringify(file)}${code === "ENOENT" ? ": no such file" : `: ${code}`}. Pass the path of a YAML or JSON run configuration.` };
  }
  // Decoding would turn invalid bytes into U+FFFD, and a value into another one.
  if (!isUtf8(bytes)) return invalid(`it is not UTF-8: ${invalidUtf8(bytes)}. Save it as UTF-8.`);
  const text = bytes.toString("utf8");
  try {
    // Keys are checked for uniqueness below: the parser's own check compares each key of a map
    // with every other one, which takes minutes for 100,000 environment variables. Integers are
    // read exactly (a JavaScript number rounds 12345678901234567890).
    const document = parseDocument(text, { uniqueKeys: false, prettyErrors: true, version: "1.1", customTags: pyyamlTags, intAsBigInt: true });
    const problem = document.errors[0] ? reason(document.errors[0]) : checkNodes(document, text);
    if (problem) return invalid(problem);
    return { value: document.toJS({ maxAliasCount, reviver: exactIntegers }) ?? {} };
  } catch (e) {
    return invalid(reason(e as Error));
  }
}

/**
 * An integer as a number when a number holds it exactly, else as its digits: every setting that
 * takes a number writes it as text, as the reference system (Python) writes any integer.
 */
function exactIntegers(_key: unknown, value: unknown): unknown {
  if (typeof value !== "bigint") return value;
  return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
}

/** Where the first invalid UTF-8 sequence starts: its byte and line. */
function invalidUtf8(bytes: Buffer): string {
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at]!;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
    if (length === 0 || !isUtf8(bytes.subarray(at, at + length))) break;
    at += length;
  }
  const line = bytes.subarray(0, at).toString("utf8").split("\n").length;
  return `byte ${at + 1} (line ${line}) starts no UTF-8 character (0x${bytes[at]!.toString(16).padStart(2, "0")})`;
}

/** The first line of a parser error. The parser recurses per level of nesting, so a deep enough file overflows the stack before the depth check. */
function reason(e: Error): string {
  return /Maximum call stack/.test(e.message) ? `it nests deeper than ${maxDepth} levels.` : e.message.split("\n")[0]!;
}

/**
 * Depth, keys and aliases, walked with a stack of its own (no recursion: the depth is unknown).
 * A key is a scalar, once per map as the map's JavaScript object sees it (`1` and `"1"` are one
 * key there) and as ZenML's Python dict does (`1`, `1.0` and `true` are one key there); an alias
 * never lies inside the node it names, which would make a value that contains itself.
 */
function checkNodes(document: Document, text: string): string | undefined {
  const pending: [unknown, number][] = [[document.contents, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (isAlias(node)) {
      const target = node.resolve(document);
      if (target?.range && node.range && target.range[0] <= node.range[0] && node.range[1] <= target.range[1]) {
        return `the alias *${node.source} at line ${lineOf(text, node.range[0])} lies inside the node it names, so the value would contain itself. Write the value out.`;
      }
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > maxDepth) return `it nests deeper than ${maxDepth} levels, at line ${lineOf(text, node.range?.[0])}.`;
    const keys = new Set<string>();
    for (const item of node.items) {
      if (!isPair(item)) {
        pending.push([item, depth + 1]);
        continue;
      }
      const key = item.key as Node | null;
      if (!isScalar(key)) return `a key at line ${lineOf(text, (key ?? (item.value as Node | null))?.range?.[0])} is not a plain value (a map, a list or an alias). Write keys as text.`;
      const name = key.value === null ? "" : String(key.value);
      const identities = [`js ${name}`, pythonKey(key.value)];
      if (identities.some((id) => keys.has(id))) return `the key ${JSON.stringify(name)} appears twice in one map, at line ${lineOf(text, key.range?.[0])}.`;
      for (const id of identities) keys.add(id);
      pending.push([item.value, depth + 1]);
    }
  }
  return undefined;
}

/** A key as ZenML's Python dict compares it: `1`, `1.0` and `true` are one key there. */
function pythonKey(value: unknown): string {
  if (typeof value === "boolean" || typeof value === "bigint" || value instanceof Number || typeof value === "number") {
    const number = Number(value);
    return `number ${Number.isInteger(number) && typeof value !== "bigint" ? BigInt(number) : value}`;
  }
  return `${typeof value} ${String(value)}`;
}

function lineOf(text: string, offset = 0): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
