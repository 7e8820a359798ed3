/**
 * Image references exactly as Docker reads them (distribution/reference: `ParseNormalizedNamed`):
 * `[host[:port]/]path[:tag][@algorithm:hex]`, with Docker Hub as the default registry and
 * `library/` before one-part Hub names. The one grammar of the project: the settings checks and
 * the registry client both use it.
 */

/** A parsed reference, normalized: `python:3.11` is `docker.io` + `library/python` + `3.11`. */
export type ImageRef = {
  /** `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`: as written, except Hub's aliases. */
  registry: string;
  /** The path within the registry, lower case, e.g. `library/python`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` (or sha384, sha512), lower-case hex. */
  digest?: string;
};

export type ImageRefResult = { ok: true; ref: ImageRef } | { ok: false; problem: string };

const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const name = `(?:${host}(?::[0-9]+)?/)?${pathComponent}(?:/${pathComponent})*`;
const reference = new RegExp(`^(${name})(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`);
const identifier = /^[a-f0-9]{64}$/;
/** go-digest's registered algorithms and the length of their hex encoding. */
const digestHexLength: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const nameMax = 255;
/** No valid reference is longer (255 name + 129 tag + 136 digest); longer input is not parsed. */
const inputMax = 600;

/** Parses and normalizes a reference; never throws. */
export function parseImageRef(text: string): ImageRefResult {
  if (text.length > inputMax) return { ok: false, problem: `it is ${text.length} characters long` };
  if (identifier.test(text)) return { ok: false, problem: "a 64-character hex string is an image ID, not a name" };
  const { registry, remainder } = splitRegistry(text);
  const repositoryPart = remainder.split(/[:@]/, 1)[0]!;
  if (repositoryPart.toLowerCase() !== repositoryPart) return { ok: false, problem: "the repository name must be lower case" };
  const match = reference.exec(`${registry}/${remainder}`);
  if (!match) return { ok: false, problem: "it does not follow `[registry/]name[:tag][@digest]`" };
  const fullName = match[1]!;
  if (fullName.length > nameMax) return { ok: false, problem: `the name is longer than ${nameMax} characters` };
  const digest = match[3];
  if (digest !== undefined) {
    const [algorithm, hex] = digest.split(":") as [string, string];
    if (digestHexLength[algorithm] !== hex.length || !/^[a-f0-9]+$/.test(hex)) {
      return { ok: false, problem: `${algorithm}:… is not a digest (sha256 with 64 lower-case hex digits, or sha384, sha512)` };
    }
  }
  const ref: ImageRef = { registry, repository: fullName.slice(registry.length + 1) };
  if (match[2] !== undefined) ref.tag = match[2];
  if (digest !== undefined) ref.digest = digest;
  return { ok: true, ref };
}

/**
 * Docker's rule for where the registry ends: the first part is a registry when it holds `.` or
 * `:`, is `localhost`, or is not lower case; otherwise the reference is on Docker Hub.
 */
function splitRegistry(text: string): { registry: string; remainder: string } {
  const slash = text.indexOf("/");
  const first = slash < 0 ? "" : text.slice(0, slash);
  const isRegistry = slash >= 0 && (first === "localhost" || /[.:]/.test(first) || first.toLowerCase() !== first);
  let registry = isRegistry ? first : "docker.io";
  let remainder = isRegistry ? text.slice(slash + 1) : text;
  if (registry === "index.docker.io") registry = "docker.io";
  if (registry === "docker.io" && !remainder.includes("/")) remainder = `library/${remainder}`;
  return { registry, remainder };
}

/** The canonical form, `registry/repository[:tag][@digest]`, which Docker accepts back as is. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}
