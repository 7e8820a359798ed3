/**
 * Registry errors: one stable code per condition, one factory per code. A message names the
 * registry, the reference, what failed and the fix; it never holds a password, token or header
 * (the client also scrubs every secret it knows from messages before they leave it).
 */

export const registryCodes = {
  INVALID_REFERENCE: "REGISTRY_INVALID_REFERENCE",
  CREDENTIALS_UNREADABLE: "REGISTRY_CREDENTIALS_UNREADABLE",
  AUTH_REQUIRED: "REGISTRY_AUTH_REQUIRED",
  AUTH_REFUSED: "REGISTRY_AUTH_REFUSED",
  ACCESS_DENIED: "REGISTRY_ACCESS_DENIED",
  NOT_FOUND: "REGISTRY_NOT_FOUND",
  NO_MATCHING_PLATFORM: "REGISTRY_NO_MATCHING_PLATFORM",
  TLS_FAILED: "REGISTRY_TLS_FAILED",
  INSECURE_REFUSED: "REGISTRY_INSECURE_REFUSED",
  UNREACHABLE: "REGISTRY_UNREACHABLE",
  UNAVAILABLE: "REGISTRY_UNAVAILABLE",
  BAD_RESPONSE: "REGISTRY_BAD_RESPONSE",
  DIGEST_MISMATCH: "REGISTRY_DIGEST_MISMATCH",
} as const;

export type RegistryErrorCode = (typeof registryCodes)[keyof typeof registryCodes];

/** Where a failure happened: the registry host and, when there is one, the reference. */
export type Where = { registry: string; reference?: string };

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  readonly code: RegistryErrorCode;
  /** The registry host, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  readonly registry: string;
  readonly reference: string | undefined;
  /** What the user can do about it, one sentence. */
  readonly fix: string;

  constructor(code: RegistryErrorCode, where: Where, problem: string, fix: string) {
    super(`${problem}. ${fix}`);
    this.code = code;
    this.registry = where.registry;
    this.reference = where.reference;
    this.fix = fix;
  }
}

/** `REFERENCE: registry HOST`, the start of most messages. */
function subject(where: Where): string {
  return `${where.reference !== undefined ? `${where.reference}: ` : ""}registry ${where.registry}`;
}

function prefix(where: Where): string {
  return where.reference !== undefined ? `${where.reference}: ` : "";
}

const login = (registry: string) => `run \`docker login ${registry}\`, or give the credentials in config.json under DOCKER_CONFIG (auths, credsStore or credHelpers)`;

export function invalidReference(text: string, problem: string): RegistryError {
  return new RegistryError(registryCodes.INVALID_REFERENCE, { registry: "", reference: text },
    `${JSON.stringify(text.slice(0, 200))} is not an image reference: ${problem}`,
    "Write `[registry/]name[:tag][@sha256:digest]` with a lower-case name, e.g. `ghcr.io/org/app:1.0`");
}

export function credentialsUnreadable(registry: string, problem: string, fix: string): RegistryError {
  return new RegistryError(registryCodes.CREDENTIALS_UNREADABLE, { registry }, `cannot read the credentials for registry ${registry}: ${problem}`, fix);
}

export function authRequired(where: Where, scope: string): RegistryError {
  return new RegistryError(registryCodes.AUTH_REQUIRED, where,
    `${subject(where)} needs credentials for ${scope}, and none are configured`, `Log in: ${login(where.registry)}`);
}

export function authRefused(where: Where, source: string, detail: string): RegistryError {
  return new RegistryError(registryCodes.AUTH_REFUSED, where,
    `${subject(where)} refused the credentials from ${source}${detail ? ` (${detail})` : ""}`,
    `Check the user name and password or token, then ${login(where.registry)}`);
}

export function accessDenied(where: Where, scope: string, source: string | undefined): RegistryError {
  return new RegistryError(registryCodes.ACCESS_DENIED, where,
    `${subject(where)} denies ${scope} to ${source !== undefined ? `the credentials from ${source}` : "anonymous clients"}`,
    source !== undefined ? "Grant that access to this account, or use an account that has it" : `The repository may be private or missing: ${login(where.registry)}`);
}

export function notFound(where: Where, what: string): RegistryError {
  return new RegistryError(registryCodes.NOT_FOUND, where, `${prefix(where)}${what} does not exist in registry ${where.registry}`,
    "Check the name, tag and digest, and push the image first if it is one of yours");
}

export function noMatchingPlatform(where: Where, platform: string, available: readonly string[]): RegistryError {
  return new RegistryError(registryCodes.NO_MATCHING_PLATFORM, where,
    `${prefix(where)}the multi-platform index has no image for ${platform}; it has ${available.length > 0 ? available.join(", ") : "no platform entries"}`,
    "Build for one of those platforms, or use an image that supports yours");
}

export function tlsFailed(where: Where, detail: string): RegistryError {
  return new RegistryError(registryCodes.TLS_FAILED, where, `${prefix(where)}cannot verify the TLS certificate of registry ${where.registry}: ${detail}`,
    "Pass the CA that signed the registry's certificate (the client's `ca` option), or, for a registry you trust on a private network, mark it insecure");
}

export function insecureRefused(where: Where, detail: string): RegistryError {
  const host = where.registry;
  return new RegistryError(registryCodes.INSECURE_REFUSED, where, `${prefix(where)}${detail}; plain HTTP is used only for hosts marked insecure`,
    `If you trust the network to ${host}, mark it insecure: the client's \`insecure: ["${host}"]\` option or DOCKWRIGHT_INSECURE_REGISTRIES=${host}`);
}

export function unreachable(where: Where, detail: string, attempts: number): RegistryError {
  return new RegistryError(registryCodes.UNREACHABLE, where, `${prefix(where)}cannot reach registry ${where.registry} (${detail}, ${attempts} attempt${attempts === 1 ? "" : "s"})`,
    "Check the host name and port, the network and proxies, and that the registry is running");
}

export function unavailable(where: Where, status: number, attempts: number, retryAfterSeconds?: number): RegistryError {
  const why = status === 429 ? "is rate-limiting requests" : `answers HTTP ${status}`;
  return new RegistryError(registryCodes.UNAVAILABLE, where,
    `${subject(where)} ${why} (${attempts} attempt${attempts === 1 ? "" : "s"}${retryAfterSeconds !== undefined ? `; it asks to retry after ${retryAfterSeconds} s` : ""})`,
    status === 429 ? "Wait and retry, or log in: authenticated clients usually get higher limits" : "Retry later; the registry or a proxy in front of it is failing");
}

export function badResponse(where: Where, detail: string): RegistryError {
  return new RegistryError(registryCodes.BAD_RESPONSE, where, `${subject(where)} sent an unexpected response: ${detail}`,
    "Check that the address is an OCI distribution (Docker registry v2) endpoint; if it is, report the response to its operators");
}

export function digestMismatch(where: Where, what: string, expected: string, actual: string): RegistryError {
  return new RegistryError(registryCodes.DIGEST_MISMATCH, where, `${prefix(where)}${what} from registry ${where.registry} has digest ${actual}, not ${expected}`,
    "The registry or a proxy altered the content; retry, and report it to the registry's operators if it persists");
}
