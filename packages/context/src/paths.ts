/** Path helpers shared by the patterns, the walk and the archives. */
import { compareCodePoints } from "@dockwright/core/strings";

/**
 * Sorts in place by `path`, in UTF-8 byte order. Without surrogates UTF-16 order is the same, and
 * the engine's own string comparison is several times faster than `compareCodePoints`.
 */
export function sortByPath<T extends { path: string }>(items: T[]): T[] {
  if (items.some((item) => /[\ud800-\udfff]/.test(item.path))) return items.sort((a, b) => compareCodePoints(a.path, b.path));
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
