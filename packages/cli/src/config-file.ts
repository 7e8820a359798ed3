/**
 * Reading a run configuration file (YAML, or JSON, which is YAML) within bounds: its size, its
 * nesting and its aliases are limited, so a hostile file fails with a message instead of
 * exhausting memory, the stack or the CPU. Scalars resolve as PyYAML's SafeLoader (ZenML's)
 * resolves them: YAML 1.1 booleans and octals, floats only with a dot, dates as text.
 */
import { readFile, stat } from "node:fs/promises";
import { PythonFloat } from "@dockwright/core";
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node, type ScalarTag, type Tags } from "yaml";

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
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > maxConfigBytes) {
      return { message: `the configuration ${JSON.stringify(file)} holds ${size} bytes, more than the ${maxConfigBytes} (16 MiB) a run configuration may have. Pass the right file.` };
    }
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { message: `cannot read the configuration ${JSON.stringify(file)}${code === "ENOENT" ? ": no such file" : `: ${code}`}. Pass the path of a YAML or JSON run configuration.` };
  }
  try {
    // Keys are checked for uniqueness below: the parser's own check compares each key of a map
    // with every other one, which takes minutes for 100,000 environment variables.
    const document = parseDocument(text, { uniqueKeys: false, prettyErrors: true, version: "1.1", customTags: pyyamlTags });
    const problem = document.errors[0] ? reason(document.errors[0]) : checkNodes(document.contents, text);
    if (problem) return invalid(problem);
    return { value: document.toJS({ maxAliasCount }) ?? {} };
  } catch (e) {
    return invalid(reason(e as Error));
  }
}

/** The first line of a parser error. The parser recurses per level of nesting, so a deep enough file overflows the stack before the depth check. */
function reason(e: Error): string {
  return /Maximum call stack/.test(e.message) ? `it nests deeper than ${maxDepth} levels.` : e.message.split("\n")[0]!;
}

/** Depth and duplicate keys, walked with a stack of its own (no recursion: the depth is unknown). */
function checkNodes(root: Node | null, text: string): string | undefined {
  const pending: [Node | null | undefined, number][] = [[root, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (isMap(node) || isSeq(node)) {
      if (depth > maxDepth) return `it nests deeper than ${maxDepth} levels, at line ${lineOf(text, node.range?.[0])}.`;
      const keys = new Set<string>();
      for (const item of node.items) {
        if (!isPair(item)) {
          pending.push([item as Node, depth + 1]);
          continue;
        }
        if (isScalar(item.key)) {
          const key = `${typeof item.key.value} ${String(item.key.value)}`;
          if (keys.has(key)) return `the key ${JSON.stringify(String(item.key.value))} appears twice in one map, at line ${lineOf(text, item.key.range?.[0])}.`;
          keys.add(key);
        }
        pending.push([item.value as Node | null, depth + 1]);
      }
    }
  }
  return undefined;
}

function lineOf(text: string, offset = 0): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
