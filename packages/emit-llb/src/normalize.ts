/**
 * Normalizations that Docker and BuildKit's Go client apply before values reach LLB. Reproducing
 * them exactly is what makes our op bytes, and so their digests, equal to the Go client's.
 */
import { cleanPath } from "@dockwright/core/strings";

/**
 * An image reference as Docker's `ParseNormalizedNamed` + `TagNameOnly` write it:
 * `python:3.11` -> `docker.io/library/python:3.11`, `org/x` -> `docker.io/org/x:latest`.
 * Registry hosts and digests are kept; `:latest` is added only when there is neither tag nor digest.
 */
export function normalizeImageRef(ref: string): string {
  const at = ref.indexOf("@");
  const digest = at === -1 ? "" : ref.slice(at);
  let name = at === -1 ? ref : ref.slice(0, at);
  const colon = name.lastIndexOf(":");
  const tag = colon > name.lastIndexOf("/") ? name.slice(colon) : "";
  if (tag) name = name.slice(0, colon);

  const slash = name.indexOf("/");
  const first = name.slice(0, slash);
  // The first component is a registry host when it looks like one (Docker's rule).
  const hasHost = slash !== -1 && (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase());
  let host = hasHost ? first : "docker.io";
  let path = hasHost ? name.slice(slash + 1) : name;
  if (host === "index.docker.io") host = "docker.io";
  if (host === "docker.io" && !path.includes("/")) path = `library/${path}`;
  return `${host}/${path}${tag || digest ? tag : ":latest"}${digest}`;
}

/**
 * A path as BuildKit's LLB client stores it in a file action: absolute (relative paths are taken
 * from `dir`), cleaned, and with `keepSlash` a trailing `/` kept (it means "into this directory").
 */
export function normalizePath(dir: string, p: string, keepSlash = false): string {
  let out = cleanPath(p);
  if (!out.startsWith("/")) out = cleanPath(`/${dir}/${out}`);
  if (keepSlash && p.endsWith("/") && !out.endsWith("/")) out += "/";
  else if (keepSlash && p.endsWith("/.")) out += out === "/" ? "." : "/.";
  return out;
}

/** A pattern that matches exactly this path (BuildKit's matcher treats `*?[\` as syntax). */
export function literalPattern(path: string): string {
  return path.replace(/[*?[\\]/g, "\\$&");
}

/**
 * A list of strings as Go's `json.Marshal` writes it, which BuildKit's client uses for the
 * `local.*patterns` attributes: like JSON.stringify, but `<`, `>`, `&`, U+2028 and U+2029 escaped.
 */
export function goJsonStrings(values: readonly string[]): string {
  const escapes: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029" };
  return JSON.stringify(values).replace(/[<>&\u2028\u2029]/g, (c) => escapes[c]!);
}
