import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadConfig, maxConfigBytes } from "./config-file.js";

const dir = await mkdtemp(path.join(tmpdir(), "config-file-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

let count = 0;
async function load(text: string) {
  const file = path.join(dir, `run-${count++}.yaml`);
  await writeFile(file, text);
  return loadConfig(file);
}

describe("loadConfig", () => {
  test("reads YAML and JSON; an empty file is an empty configuration", async () => {
    expect(await load("settings:\n  docker:\n    environment: {A: '1'}\n")).toEqual({ value: { settings: { docker: { environment: { A: "1" } } } } });
    expect(await load('{"steps": {"trainer": {}}}')).toEqual({ value: { steps: { trainer: {} } } });
    expect(await load("")).toEqual({ value: {} });
  });

  test("a duplicate key is an error naming the key and its line", async () => {
    expect(await load("settings:\n  docker:\n    user: a\n    user: b\n")).toEqual({
      message: expect.stringMatching(/not valid YAML or JSON: the key "user" appears twice in one map, at line 4\.$/),
    });
  });

  // Issue 13, defect 18: `1` and `"1"` are one key of the JavaScript object (and `1`, `1.0` and `yes` one of the Python dict); the second replaced the first silently.
  test("keys that differ only in their YAML type are the same key", async () => {
    for (const [first, second] of [["1", "'1'"], ["true", '"true"'], ["~", '""'], ["1.0", "1"], ["yes", "1"]]) {
      expect(await load(`environment:\n  ${first}: a\n  ${second}: b\n`)).toEqual({ message: expect.stringMatching(/appears twice in one map, at line 3\.$/) });
    }
    expect(await load("environment:\n  ? [a, b]\n  : x\n")).toEqual({ message: expect.stringContaining("is not a plain value") });
  });

  // Issue 13, defect 16: an alias inside its own anchor made a value that contains itself, and the compile overflowed the stack.
  test("an alias inside the node it names is refused", async () => {
    expect(await load("settings:\n  docker:\n    apt_packages: &a [git, *a]\n")).toEqual({
      message: expect.stringContaining("the alias *a at line 3 lies inside the node it names"),
    });
    expect(await load("build_options: &o {x: *o}\n")).toEqual({ message: expect.stringContaining("the alias *o at line 1 lies inside") });
    // An alias after its anchor is fine.
    expect(await load("a: &a [git]\nb: *a\n")).toEqual({ value: { a: ["git"], b: ["git"] } });
  });

  // Issue 13, defect 18: invalid UTF-8 was decoded to U+FFFD, a value other than the one written.
  test("a file that is not UTF-8 is refused, naming the first bad byte", async () => {
    const file = path.join(dir, "latin1.yaml");
    await writeFile(file, Buffer.concat([Buffer.from("environment:\n  A: caf"), Buffer.from([0xe9]), Buffer.from("\n")]));
    expect(await loadConfig(file)).toEqual({ message: expect.stringContaining("it is not UTF-8: byte 22 (line 2) starts no UTF-8 character (0xe9)") });
  });

  // Issue 13, defect 18: 12345678901234567890 became 12345678901234567000.
  test("integers keep every digit", async () => {
    expect(await load("environment:\n  A: 12345678901234567890\n  B: 42\n  C: -9007199254740993\n  D: 0x10\n")).toEqual({
      value: { environment: { A: "12345678901234567890", B: 42, C: "-9007199254740993", D: 16 } },
    });
  });

  test("100,000 keys in one map: read in linear time (the parser's own check is quadratic)", async () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `  VAR_${i}: v${i}`);
    const result = await load(`environment:\n${lines.join("\n")}\n`);
    expect(Object.keys((result as { value: { environment: object } }).value.environment)).toHaveLength(100_000);
  });

  test("nesting deeper than 64 levels is refused, however deep (no stack overflow escapes)", async () => {
    const nested = (depth: number) => `x: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
    expect(await load(nested(63))).toHaveProperty("value");
    expect(await load(nested(64))).toEqual({ message: expect.stringContaining("it nests deeper than 64 levels, at line 1.") });
    expect(await load(nested(100_000))).toEqual({ message: expect.stringContaining("it nests deeper than 64 levels.") });
    const block = Array.from({ length: 1_000 }, (_, i) => `${" ".repeat(i)}a:`).join("\n");
    expect(await load(`${block} 1\n`)).toEqual({ message: expect.stringContaining("it nests deeper than 64 levels") });
  });

  test("an alias bomb (billion laughs) is refused", async () => {
    const levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++) levels.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
    expect(await load(`${levels.join("\n")}\n`)).toEqual({ message: expect.stringContaining("Excessive alias count") });
  });

  test("a file larger than 16 MiB is refused before it is read", async () => {
    const file = path.join(dir, "huge.yaml");
    await writeFile(file, "");
    await truncate(file, maxConfigBytes + 1);
    expect(await loadConfig(file)).toEqual({ message: expect.stringContaining(`holds ${maxConfigBytes + 1} bytes, more than the ${maxConfigBytes} (16 MiB)`) });
  });

  test("a missing file and a syntax error say so", async () => {
    expect(await loadConfig(path.join(dir, "missing.yaml"))).toEqual({ message: expect.stringContaining("no such file") });
    expect(await load("a: [1, 2\n")).toEqual({ message: expect.stringContaining("not valid YAML or JSON: ") });
  });
});
