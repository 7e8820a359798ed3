/** Reading .dockerignore files: every parsing rule of facts/dockerignore.md, and the file choice. */
import fs from "node:fs";
import path from "node:path";
import { DiagnosticError } from "@dockwright/core";
import { describe, expect, test } from "vitest";
import { loadDockerignore, parseDockerignore } from "./dockerignore.js";
import { makeTree } from "./tree.testing.js";
import { walkContext } from "./walk.js";

function diagnosticOf(run: () => unknown): DiagnosticError {
  try {
    run();
  } catch (e) {
    if (e instanceof DiagnosticError) return e;
    throw e;
  }
  throw new Error("expected a DiagnosticError");
}

describe("parseDockerignore", () => {
  test("strips a UTF-8 BOM from the first line only", () => {
    expect(parseDockerignore("\ufeffa\n\ufeffb\n")).toEqual(["a", "\ufeffb"]);
    expect(parseDockerignore("\ufeff# comment\nc")).toEqual(["c"]);
  });

  test("a comment is a # in column 0 only", () => {
    expect(parseDockerignore("# comment\n  #x\n\t# y\n")).toEqual(["#x", "# y"]);
  });

  test("trims spaces, tabs and CR, and skips empty lines", () => {
    expect(parseDockerignore(" a \r\n\tb\t\r\n\r\n   \n\u00a0c\u0085\n")).toEqual(["a", "b", "c"]);
    // Go trims Unicode white space, not the BOM that String.trim would remove
    expect(parseDockerignore("x\n\ufeffd")).toEqual(["x", "\ufeffd"]);
  });

  test("an exception keeps its !, with the space after it trimmed", () => {
    expect(parseDockerignore("!a\n! b\n  !  /c/\n")).toEqual(["!a", "!b", "!c"]);
  });

  test("a bare ! is an error with its line number", () => {
    const e = diagnosticOf(() => parseDockerignore("a\n!\n", "/ctx/.dockerignore"));
    expect(e.diagnostics[0]).toMatchObject({ code: "INVALID_DOCKERIGNORE", path: "/ctx/.dockerignore:2" });
    expect(e.diagnostics[0]?.message).toMatch(/line 2/);
  });

  test("!/ cleans to a bare ! and is refused, as Docker refuses it", () => {
    expect(() => parseDockerignore("!/")).toThrow(DiagnosticError);
  });

  test("cleans paths like Go's filepath.Clean, then drops one leading /", () => {
    expect(parseDockerignore("./a\na/../b\nc/\n**/\n//d\n/e/f/\n/\n.\n../g\n")).toEqual(["a", "b", "c", "**", "d", "e/f", "/", ".", "../g"]);
  });

  test.each([
    ["[", "an unclosed class"],
    ["a[b", "an unclosed class after text"],
    ["[]", "an empty class"],
    ["[^]", "an empty negated class"],
    ["[a-]", "a range without an end"],
    ["[-a]", "a range without a start"],
    ["[z-a]", "a reversed range"],
    ["a\\", "a trailing backslash"],
    ["\\m", "an escape Go's regular expressions refuse"],
    ["[[:nope:]]", "an unknown POSIX class"],
  ])("refuses %j (%s) with the line number", (pattern) => {
    const e = diagnosticOf(() => parseDockerignore(`ok\n${pattern}\n`));
    expect(e.diagnostics[0]?.path).toBe(".dockerignore:2");
    expect(e.diagnostics[0]?.message).toMatch(/syntax error in pattern/);
  });
});

describe("loadDockerignore", () => {
  test("reads <root>/.dockerignore and appends !/.zen (normalized as !.zen)", async () => {
    const root = makeTree({ dockerignore: "*.log\n" });
    expect(await loadDockerignore(root)).toEqual({ file: path.join(root, ".dockerignore"), patterns: ["*.log", "!.zen"] });
  });

  test("without a file, only the .zen exception", async () => {
    const root = makeTree({ files: ["a"] });
    expect(await loadDockerignore(root)).toEqual({ patterns: ["!.zen"] });
  });

  test("the explicit file wins over <root>/.dockerignore and is relative to the root", async () => {
    const root = makeTree({ files: { "docker/ignore": "b\n" }, dockerignore: "a\n" });
    expect((await loadDockerignore(root, "docker/ignore")).patterns).toEqual(["b", "!.zen"]);
  });

  test("a missing explicit file is FILE_NOT_FOUND", async () => {
    const root = makeTree({});
    await expect(loadDockerignore(root, "nope")).rejects.toMatchObject({ diagnostics: [{ code: "FILE_NOT_FOUND" }] });
  });

  test("a folder given as the file is INVALID_PATH", async () => {
    const root = makeTree({ dirs: ["dir"] });
    await expect(loadDockerignore(root, "dir")).rejects.toMatchObject({ diagnostics: [{ code: "INVALID_PATH" }] });
  });

  test("an invalid pattern names the file and line", async () => {
    const root = makeTree({ dockerignore: "a\n# c\n[\n" });
    await expect(loadDockerignore(root)).rejects.toMatchObject({ diagnostics: [{ path: `${path.join(root, ".dockerignore")}:3` }] });
  });

  test(".zen always reaches the context, even past an allow-list or its own exclusion", async () => {
    const root = makeTree({ files: [".zen/config.yaml", "app.py"], dockerignore: "*\n.zen\n" });
    const { patterns } = await loadDockerignore(root);
    expect((await walkContext(root, { patterns })).entries.map((e) => e.path)).toEqual([".zen", ".zen/config.yaml"]);
  });

  test("only the root .dockerignore counts; a nested one is an ordinary file", async () => {
    const root = makeTree({ files: { "sub/.dockerignore": "*\n", "sub/a": "" } });
    const { patterns } = await loadDockerignore(root);
    expect((await walkContext(root, { patterns })).entries.map((e) => e.path)).toEqual(["sub", "sub/.dockerignore", "sub/a"]);
  });

  test("CRLF files and a BOM work end to end", async () => {
    const root = makeTree({ files: ["a.log", "b.txt"], dockerignore: "\ufeff*.log\r\n.dockerignore\r\n" });
    const { patterns } = await loadDockerignore(root);
    expect((await walkContext(root, { patterns })).entries.map((e) => e.path)).toEqual(["b.txt"]);
    expect(fs.existsSync(path.join(root, "a.log"))).toBe(true);
  });
});
