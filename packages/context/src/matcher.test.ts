/** Matching: every rule of facts/dockerignore.md, and Docker's quirks, without a file system. */
import { describe, expect, test } from "vitest";
import { createMatcher } from "./matcher.js";
import { parseDockerignore } from "./dockerignore.js";

/** Which of `paths` the walk would leave out under `dockerignore`. */
function excluded(dockerignore: string, paths: string[]): string[] {
  const matcher = createMatcher(parseDockerignore(dockerignore));
  return paths.filter((p) => matcher.excludes(p));
}

describe("anchoring and ancestors", () => {
  test("patterns are anchored at the root: no implicit **/", () => {
    expect(excluded("*.log\nnode_modules\n", ["a.log", "src/a.log", "node_modules/x", "web/node_modules/x"])).toEqual(["a.log", "node_modules/x"]);
  });

  test("a path is excluded when an ancestor directory matches", () => {
    expect(excluded("a/b\n", ["a/b", "a/b/c/d.txt", "a/bc", "a/x"])).toEqual(["a/b", "a/b/c/d.txt"]);
  });

  test("a trailing / also matches a file of that name (the pattern is cleaned)", () => {
    expect(excluded("build/\n", ["build", "build/x"])).toEqual(["build", "build/x"]);
  });

  test("/ and . match nothing", () => {
    expect(excluded("/\n.\n", ["a", "b/c", ".a"])).toEqual([]);
  });

  test("matching is case-sensitive", () => {
    expect(excluded("*.LOG\nReadme.md\n", ["a.log", "b.LOG", "README.md", "Readme.md"])).toEqual(["b.LOG", "Readme.md"]);
  });
});

describe("wildcards", () => {
  test("* matches any run of characters except /", () => {
    expect(excluded("a*z\n", ["az", "abcz", "a/z", "ab/cz"])).toEqual(["az", "abcz"]);
  });

  test("? matches one code point, not a UTF-16 unit, and never /", () => {
    expect(excluded("?.txt\n", ["a.txt", "é.txt", "😀.txt", "ab.txt", ".txt"])).toEqual(["a.txt", "é.txt", "😀.txt"]);
    expect(excluded("a?b\n", ["a/b", "axb"])).toEqual(["axb"]);
  });

  test("[...] classes, ranges, [^...] negation, and [!...] as a literal !", () => {
    expect(excluded("[a-c].txt\n", ["a.txt", "c.txt", "d.txt"])).toEqual(["a.txt", "c.txt"]);
    expect(excluded("[^a].txt\n", ["a.txt", "b.txt", "!.txt"])).toEqual(["b.txt", "!.txt"]);
    expect(excluded("[!a].txt\n", ["a.txt", "b.txt", "!.txt"])).toEqual(["a.txt", "!.txt"]);
    expect(excluded("[é😀].txt\n", ["é.txt", "😀.txt", "e.txt"])).toEqual(["é.txt", "😀.txt"]);
  });

  test("a backslash escapes the next character", () => {
    expect(excluded("\\*.txt\na\\?b\n\\[x\\]\n", ["*.txt", "x.txt", "a?b", "axb", "[x]", "x"])).toEqual(["*.txt", "a?b", "[x]"]);
  });

  test("other characters are literal, regular-expression ones included", () => {
    expect(excluded("a.b\nx+(y)|{z}$\n", ["a.b", "axb", "x+(y)|{z}$", "xx(y)|{z}"])).toEqual(["a.b", "x+(y)|{z}$"]);
    expect(excluded("a.*\n", ["a.x", "abx"])).toEqual(["a.x"]);
  });
});

describe("** forms", () => {
  test("**/ matches zero or more directories", () => {
    expect(excluded("**/x\n", ["x", "a/x", "a/b/x", "ax"])).toEqual(["x", "a/x", "a/b/x"]);
    expect(excluded("a/**/b\n", ["a/b", "a/x/b", "a/x/y/b", "ab"])).toEqual(["a/b", "a/x/b", "a/x/y/b"]);
    expect(excluded("**/*.pyc\n", ["m.pyc", "a/b/m.pyc", "a/m.py"])).toEqual(["m.pyc", "a/b/m.pyc"]);
  });

  test("a trailing /** matches everything below, not the directory itself", () => {
    const matcher = createMatcher(["a/**"]);
    expect(matcher.match("a").excluded).toBe(false);
    expect(matcher.excludes("a/x")).toBe(true);
    expect(matcher.excludes("a/x/y")).toBe(true);
    expect(matcher.excludes("ab/x")).toBe(false);
  });

  test("** alone matches everything", () => {
    expect(excluded("**\n", ["a", "b/c", ".git/HEAD"])).toEqual(["a", "b/c", ".git/HEAD"]);
  });

  test("quirk: a leading ** without other wildcards is a suffix test", () => {
    expect(excluded("**file\n", ["profile", "x/profile", "file", "files"])).toEqual(["profile", "x/profile", "file"]);
    expect(excluded("**.py\n", ["a.py", "a/b.py", "apy"])).toEqual(["a.py", "a/b.py"]);
  });
});

describe("exceptions and order", () => {
  test("the last matching pattern wins", () => {
    expect(excluded("*.md\n!README.md\n", ["README.md", "a.md"])).toEqual(["a.md"]);
    expect(excluded("*.md\n!README.md\nREADME.md\n", ["README.md", "a.md"])).toEqual(["README.md", "a.md"]);
  });

  test("an exception re-includes a path inside an excluded directory (gitignore cannot)", () => {
    expect(excluded("docs\n!docs/README.md\n", ["docs/README.md", "docs/guide.md"])).toEqual(["docs/guide.md"]);
  });

  test("a directory's result is inherited: a/b then !a still excludes a/b/c.txt", () => {
    expect(excluded("a/b\n!a\n", ["a/b/c.txt", "a/x.txt"])).toEqual(["a/b/c.txt"]);
  });

  test("* then !src keeps everything under src", () => {
    expect(excluded("*\n!src\n", ["src/a/b.py", "docs/x", "README.md"])).toEqual(["docs/x", "README.md"]);
  });

  test("* then !**/*.py keeps sub/x.py (BuildKit walks excluded folders for wildcard exceptions)", () => {
    expect(excluded("*\n!**/*.py\n", ["sub/x.py", "sub/x.txt", "y.py"])).toEqual(["sub/x.txt"]);
  });
});

describe("pruning (BuildKit's rule)", () => {
  test("without exceptions every excluded directory is skipped", () => {
    expect(createMatcher(["node_modules"]).canSkip("node_modules")).toBe(true);
  });

  test("a wildcard-free exception outside the directory allows skipping; one inside does not", () => {
    const matcher = createMatcher(["docs", "node_modules", "!docs/README.md"]);
    expect(matcher.canSkip("node_modules")).toBe(true);
    expect(matcher.canSkip("docs")).toBe(false);
  });

  test("a trailing /** or /* of an exception is ignored for the wildcard test", () => {
    const matcher = createMatcher(["*", "!keep/**", "!also/*"]);
    expect(matcher.canSkip("other")).toBe(true);
    expect(matcher.canSkip("keep")).toBe(false);
    expect(matcher.canSkip("also")).toBe(false);
  });

  test("any wildcard in an exception means nothing is skipped", () => {
    for (const exception of ["!**/*.py", "!a?", "![ab]", "!a\\.b", "!x^y"]) {
      expect(createMatcher(["*", exception]).canSkip("node_modules")).toBe(false);
    }
  });
});

describe("Docker's quirks, kept", () => {
  test("* inside a class becomes [^/]*, whose ] closes the class early", () => {
    // Docker's regular expression for [*] is ^[[^/]*]$
    expect(excluded("[*]\n", ["]", "[]", "^^]", "*"])).toEqual(["]", "[]", "^^]"]);
  });

  test("^ outside a class is left unescaped: literal in an exact pattern, an anchor in a regular expression", () => {
    expect(excluded("a^b\n", ["a^b"])).toEqual(["a^b"]);
    expect(excluded("*^b\n", ["x^b", "^b"])).toEqual([]);
  });

  test("Go's regular-expression escapes and POSIX classes", () => {
    expect(excluded("\\d.txt\n", ["1.txt", "d.txt"])).toEqual(["1.txt"]);
    expect(excluded("[[:upper:]]*\n", ["Abc", "abc"])).toEqual(["Abc"]);
  });

  test("the clean runs before ! is split off: !../../a is the pattern a", () => {
    expect(createMatcher(["!../../a"]).patterns[0]).toMatchObject({ text: "a", exclusion: false });
  });
});
