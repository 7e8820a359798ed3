/** Stable hashing of plain data: the same value gives the same digest on every machine. */
import crypto from "node:crypto";

/** JSON with object keys sorted at every level; `undefined` members are dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) out[key] = sortKeys(member);
  }
  return out;
}

// One-shot hashing (Node 20.12 and later) saves the Hash object: half the cost of a small digest.
const oneShot: typeof crypto.hash | undefined = crypto.hash;

/** `sha256:<hex>` of text (UTF-8) or bytes. */
export function sha256(data: string | Uint8Array): string {
  return `sha256:${oneShot ? oneShot("sha256", data, "hex") : crypto.createHash("sha256").update(data).digest("hex")}`;
}
