/** Content digests (`algorithm:hex`), computed and checked for everything the client downloads. */
import { createHash } from "node:crypto";
import { digestMismatch, type Where } from "./errors.js";

/** The registered algorithms and the length of their hex encoding. */
const hexLength: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export function digestOf(bytes: Uint8Array, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/** A well-formed digest of a registered algorithm, as registries send them. */
export function isDigest(value: string): boolean {
  const [algorithm = "", hex = "", ...rest] = value.split(":");
  return rest.length === 0 && hexLength[algorithm] === hex.length && /^[a-f0-9]+$/.test(hex);
}

/** Throws REGISTRY_DIGEST_MISMATCH unless `bytes` hash to `expected`. */
export function checkDigest(bytes: Uint8Array, expected: string, where: Where, what: string): void {
  const actual = digestOf(bytes, expected.slice(0, expected.indexOf(":")));
  if (actual !== expected) throw digestMismatch(where, what, expected, actual);
}
