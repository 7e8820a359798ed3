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
    // Different types are different keys, as the YAML parser itself compares them.
    expect(await load("1: a\n'1': b\n")).toEqual({ value: { 1: "b" } });
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
