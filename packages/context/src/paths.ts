/** Path helpers shared by the patterns, the walk and the archives. */

/**
 * Go's `filepath.Clean` on a `/`-separated path: Docker cleans every pattern with it, so `./a`,
 * `a/` and `a//b/../c` mean `a`, `a` and `a/c`. (`path.posix.normalize` keeps trailing slashes.)
 */
export function cleanPath(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (!rooted) parts.push(".."); // `..` above the root of an absolute path is the root
  }
  const joined = parts.join("/");
  return rooted ? `/${joined}` : joined || ".";
}

/**
 * Orders paths by the bytes of their UTF-8 encoding, so every tool and machine agrees. JavaScript
 * compares UTF-16 units, which gives the same order except that characters above U+FFFF
 * (surrogate pairs) would sort before U+E000..U+FFFF; `rank` moves the surrogates above them.
 */
export function compareUtf8(a: string, b: string): number {
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
 * Sorts in place by `path`, in UTF-8 byte order. Without surrogates UTF-16 order is the same, and
 * the engine's own string comparison is several times faster than `compareUtf8`.
 */
export function sortByPath<T extends { path: string }>(items: T[]): T[] {
  if (items.some((item) => /[\ud800-\udfff]/.test(item.path))) return items.sort((a, b) => compareUtf8(a.path, b.path));
  return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A file name's bytes for a message: ASCII as is, every other byte as `\xNN`. */
export function showBytes(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) {
    text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return text;
}
