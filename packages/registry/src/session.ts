/**
 * Requests to registries' `/v2/` APIs with authentication: the first request to a registry pings
 * `/v2/` (choosing HTTPS, or plain HTTP for a host marked insecure, and learning its challenge);
 * every request then carries the credentials or token its scopes need, and a 401 is answered
 * once (a challenge learned late, an expired token) before it becomes a typed error.
 */
import { Headers, type Response } from "undici";
import { createTokens, parseChallenges, type Challenge } from "./auth.js";
import type { Credentials } from "./credentials.js";
import { accessDenied, authRefused, authRequired, badResponse, RegistryError, registryCodes, type Where } from "./errors.js";
import { discard, type Http, type Request } from "./http.js";
import { apiHost } from "./reference.js";

export type Session = {
  /** A request to `registry`; `target` is a path (`/v2/...`) or an absolute URL (an upload location). */
  request(where: Where, method: string, target: string | URL, scopes: readonly string[], init?: Request): Promise<Response>;
  /** Docker's credentials for `registry`, looked up once; their secrets are remembered. */
  credentials(registry: string): Promise<Credentials | undefined>;
  /** Remembers a secret, so that it is scrubbed from every error and log line. */
  remember(secret: string): void;
  /** Runs `task`, scrubbing known secrets from the message of any RegistryError it throws. */
  guard<T>(task: () => Promise<T>): Promise<T>;
  redact(text: string): string;
};

type Endpoint = { origin: string; challenge: Challenge | undefined };

export function createSession(http: Http, lookup: (registry: string) => Promise<Credentials | undefined>, log: (line: string) => void, userAgent: string): Session {
  const secrets = new Set<string>();
  const endpoints = new Map<string, Promise<Endpoint>>();
  const credentials = new Map<string, Promise<Credentials | undefined>>();
  const remember = (secret: string) => {
    if (secret.length >= 4) secrets.add(secret);
  };
  const redact = (text: string) => {
    let out = text;
    // Longest first, so that no part of a longer secret survives a shorter one's replacement.
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.replaceAll(secret, "***");
    return out;
  };
  const tokens = createTokens(http, remember, log);

  const credentialsOf = (registry: string) => once(credentials, registry, async () => {
    const found = await lookup(registry);
    for (const secret of [found?.password, found?.identityToken, found?.registryToken]) if (secret) remember(secret);
    if (found?.username !== undefined && found.password !== undefined) remember(Buffer.from(`${found.username}:${found.password}`).toString("base64"));
    return found;
  });

  /** Docker's order: HTTPS, and for a host marked insecure plain HTTP when HTTPS does not answer. */
  async function ping(where: Where): Promise<Endpoint> {
    const host = apiHost(where.registry);
    const schemes = http.isInsecure(host) ? ["https", "http"] : ["https"];
    for (const [i, scheme] of schemes.entries()) {
      const origin = `${scheme}://${host}`;
      let response: Response;
      try {
        response = await http.fetch(new URL("/v2/", origin), { headers: { "user-agent": userAgent }, ...(i < schemes.length - 1 ? { probe: true } : {}) }, where);
      } catch (error) {
        if (i < schemes.length - 1 && error instanceof RegistryError && error.code === registryCodes.UNREACHABLE) continue;
        throw error;
      }
      await discard(response);
      if (response.ok) return { origin, challenge: undefined };
      if (response.status === 401) return { origin, challenge: pick(response.headers.get("www-authenticate")) };
      throw badResponse(where, `${origin}/v2/ answered HTTP ${response.status}, so it is not a registry API`);
    }
    throw new Error("unreachable: the last scheme throws");
  }

  const endpoint = (where: Where) => once(endpoints, where.registry, () => ping(where));

  async function request(where: Where, method: string, target: string | URL, scopes: readonly string[], init: Request = {}): Promise<Response> {
    const known = await endpoint(where);
    const url = typeof target === "string" ? new URL(target, known.origin) : target;
    const ours = url.origin === known.origin;
    const scope = scopes.join(" ") || "access";
    for (let round = 0; ; round++) {
      const challenge = known.challenge;
      const headers = new Headers(init.headers);
      headers.set("user-agent", userAgent);
      const creds = ours && challenge ? await credentialsOf(where.registry) : undefined;
      if (ours && challenge) {
        const value = await tokens.authorization(challenge, scopes, creds, where);
        if (value !== undefined) headers.set("authorization", value);
      }
      const response = await http.fetch(url, { ...init, method, headers }, where);
      if (response.status === 403) {
        await discard(response);
        throw accessDenied(where, scope, creds?.source);
      }
      if (response.status !== 401 || !ours) return response;
      await discard(response);
      const next = pick(response.headers.get("www-authenticate"));
      const refusedToken = next?.scheme === "bearer" && next.error !== "insufficient_scope";
      // A streamed body cannot be sent twice.
      const replayable = !(init.streaming && init.body);
      if (round === 0 && replayable && next && (challenge === undefined || refusedToken)) {
        if (challenge) tokens.forget(challenge, scopes, creds);
        known.challenge = next;
        continue;
      }
      if (next?.scheme === "bearer" && next.error === "insufficient_scope") throw accessDenied(where, scope, creds?.source);
      if (creds === undefined) throw authRequired(where, scope);
      throw authRefused(where, creds.source, `HTTP 401 on ${method} ${url.pathname}`);
    }
  }

  return {
    request,
    credentials: credentialsOf,
    remember,
    redact,
    async guard(task) {
      try {
        return await task();
      } catch (error) {
        if (error instanceof RegistryError) error.message = redact(error.message);
        throw error;
      }
    },
  };
}

/** Bearer is preferred when a registry offers both. */
function pick(header: string | null): Challenge | undefined {
  const challenges = parseChallenges(header ?? "");
  return challenges.find((c) => c.scheme === "bearer") ?? challenges[0];
}

/** The promise in `map` for `key`, made once; a failed one is forgotten, so that a later call tries again. */
function once<T>(map: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
  const found = map.get(key);
  if (found) return found;
  const made = create();
  map.set(key, made);
  made.catch(() => map.get(key) === made && map.delete(key));
  return made;
}
