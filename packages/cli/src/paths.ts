import path from "node:path";

/**
 * `child` relative to `parent` as a POSIX path when it lies inside (or is) `parent`, else
 * undefined. `..x` is a name inside; `..` and `../x` are not.
 */
export function inside(parent: string, child: string): string | undefined {
  const relative = path.relative(parent, child);
  if (relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep).join("/");
}
