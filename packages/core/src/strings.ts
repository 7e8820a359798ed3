/** String rules that the outputs' readers (Go's tools, Python) apply, one definition each. */

/**
 * Code point order, which is the order of the UTF-8 bytes: Go's string sort and Python's
 * `sorted()`. JavaScript's `<` compares UTF-16 units, which gives the same order except that
 * characters above U+FFFF (surrogate pairs) would sort before U+E000..U+FFFF: `rank` moves the
 * surrogates above them. No string is encoded to compare it.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function rank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
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
