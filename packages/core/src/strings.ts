/** String rules that the outputs' readers (Go's tools, Python) apply, one definition each. */

/**
 * Code point order: Python's `sorted()`, and for valid text the order of the UTF-8 bytes (Go's
 * string sort). JavaScript's `<` compares UTF-16 units, which puts a character above U+FFFF (a
 * surrogate pair) before U+E000..U+FFFF; here the first unequal units are compared as the code
 * points they belong to, a lone surrogate being its own code point, as in Python.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) === b.charCodeAt(i)) continue;
    // The shared unit before may be the high half of a pair that differs in its low half.
    if (i > 0 && isHighSurrogate(a.charCodeAt(i - 1))) {
      const d = a.codePointAt(i - 1)! - b.codePointAt(i - 1)!;
      if (d !== 0) return d;
    }
    return a.codePointAt(i)! - b.codePointAt(i)!;
  }
  return a.length - b.length;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit < 0xdc00;
}

/**
 * Go's `path.Clean` (and `filepath.Clean` on `/`-separated paths): `./a`, `a/` and `a//b/../c`
 * mean `a`, `a` and `a/c`; `..` above the root of an absolute path is the root.
 * (`path.posix.normalize` keeps trailing slashes.)
 */
export function cleanPath(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else if (!rooted) parts.push("..");
  }
  const joined = parts.join("/");
  return rooted ? `/${joined}` : joined || ".";
}
