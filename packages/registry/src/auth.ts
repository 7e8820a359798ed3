/**
 * Registry authentication as Docker does it: the registry's `WWW-Authenticate` challenge says
 * Basic (send the credentials) or Bearer (ask the token service named by `realm` for a token of
 * the request's scopes, with the credentials if there are any, anonymously otherwise). Tokens are
 * cached per realm, service and scopes until they expire. Docker's distribution client is the
 * model: GET with Basic credentials, or the OAuth2 refresh-token POST for identity tokens.
 */
import type { Credentials } from "./credentials.js";
import { authRefused, authRequired, badResponse, insecureRefused, type Where } from "./errors.js";
import { discard, type Http } from "./http.js";

export type Challenge =
  | { scheme: "basic" }
  | { scheme: "bearer"; realm: string; service?: string; scope?: string; error?: string };

/**
 * The challenges of a `WWW-Authenticate` value (RFC 7235: `scheme param=value, ...`, several
 * challenges separated by commas, as fetch joins repeated headers). Unknown schemes are dropped.
 */
export function parseChallenges(header: string): Challenge[] {
  const token = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
  const found: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i]!)) i++;
  };
  while (i < header.length) {
    skip(/[\s,]/);
    token.lastIndex = i;
    const word = token.exec(header)?.[0];
    if (word === undefined) break;
    i += word.length;
    skip(/\s/);
    if (header[i] !== "=" || found.length === 0) {
      found.push({ scheme: word.toLowerCase(), params: {} });
      continue;
    }
    i++;
    skip(/\s/);
    let value = "";
    if (header[i] === '"') {
      for (i++; i < header.length && header[i] !== '"'; i++) value += header[i] === "\\" ? header[++i] ?? "" : header[i];
      i++;
    } else {
      token.lastIndex = i;
      value = token.exec(header)?.[0] ?? "";
      i += value.length;
    }
    found.at(-1)!.params[word.toLowerCase()] = value;
  }
  return found.flatMap(({ scheme, params }): Challenge[] => {
    if (scheme === "basic") return [{ scheme: "basic" }];
    if (scheme !== "bearer" || !params["realm"]) return [];
    const bearer: Challenge = { scheme: "bearer", realm: params["realm"] };
    for (const key of ["service", "scope", "error"] as const) if (params[key] !== undefined) bearer[key] = params[key];
    return [bearer];
  });
}

/** `repository:team/app:pull,push`, the scope grammar of the token specification. */
export function repositoryScope(repository: string, actions: "pull" | "pull,push"): string {
  return `repository:${repository}:${actions}`;
}

export type Tokens = {
  /**
   * The Authorization header value for a request needing `scopes`, or undefined to go
   * anonymous. Throws REGISTRY_AUTH_REQUIRED / REGISTRY_AUTH_REFUSED when the token service or a
   * Basic challenge cannot be satisfied.
   */
  authorization(challenge: Challenge, scopes: readonly string[], credentials: Credentials | undefined, where: Where): Promise<string | undefined>;
  /** Forgets the token for these scopes (the registry refused it: expired or revoked). */
  forget(challenge: Challenge, scopes: readonly string[], credentials: Credentials | undefined): void;
};

type Cached = { value: string; expires: number };

export function createTokens(http: Http, remember: (secret: string) => void, log: (line: string) => void): Tokens {
  const cache = new Map<string, Promise<Cached>>();
  const keyOf = (challenge: Extract<Challenge, { scheme: "bearer" }>, scopes: readonly string[], credentials: Credentials | undefined) =>
    JSON.stringify([challenge.realm, challenge.service ?? "", [...scopes].sort(), credentials?.source ?? ""]);

  async function fetchToken(challenge: Extract<Challenge, { scheme: "bearer" }>, scopes: readonly string[], credentials: Credentials | undefined, where: Where): Promise<Cached> {
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch {
      throw badResponse(where, `the token realm ${JSON.stringify(challenge.realm.slice(0, 200))} is not a URL`);
    }
    if (realm.protocol !== "https:" && !(realm.protocol === "http:" && http.isInsecure(realm.host))) {
      throw insecureRefused({ registry: realm.host, ...(where.reference !== undefined ? { reference: where.reference } : {}) },
        `the token service ${realm.origin} of registry ${where.registry} is not HTTPS`);
    }
    const scopeText = scopes.join(" ");
    let response;
    if (credentials?.identityToken !== undefined) {
      // An identity token is an OAuth2 refresh token: Docker trades it with a form POST.
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credentials.identityToken, client_id: "dockwright" });
      if (challenge.service !== undefined) form.set("service", challenge.service);
      if (scopeText) form.set("scope", scopeText);
      response = await http.fetch(realm, { method: "POST", body: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } }, where);
    } else {
      const url = new URL(realm);
      if (challenge.service !== undefined) url.searchParams.set("service", challenge.service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      const headers: Record<string, string> = {};
      if (credentials?.username !== undefined && credentials.password !== undefined) headers["authorization"] = basic(credentials);
      response = await http.fetch(url, { headers }, where);
    }
    if (response.status === 401 || response.status === 403) {
      await discard(response);
      if (credentials === undefined) throw authRequired(where, scopeText || "access");
      throw authRefused(where, credentials.source, `the token service answered ${response.status}`);
    }
    if (!response.ok) {
      await discard(response);
      throw badResponse(where, `the token service ${realm.origin} answered HTTP ${response.status}`);
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw badResponse(where, `the token service ${realm.origin} did not answer JSON`);
    }
    const value = typeof body.token === "string" && body.token ? body.token : typeof body.access_token === "string" ? body.access_token : "";
    if (!value) throw badResponse(where, `the token service ${realm.origin} answered without a token`);
    remember(value);
    // The specification's minimum lifetime is 60 s; renew 10 s early.
    const lifetime = Math.max(typeof body.expires_in === "number" ? body.expires_in : 60, 60);
    const issued = typeof body.issued_at === "string" && !Number.isNaN(Date.parse(body.issued_at)) ? Math.min(Date.parse(body.issued_at), Date.now()) : Date.now();
    log(`token for ${scopeText || "(no scope)"} from ${realm.origin}${realm.pathname}${credentials ? ` with the credentials from ${credentials.source}` : " (anonymous)"}`);
    return { value, expires: issued + (lifetime - 10) * 1000 };
  }

  return {
    async authorization(challenge, scopes, credentials, where) {
      if (challenge.scheme === "basic") {
        if (credentials?.username === undefined || credentials.password === undefined) throw authRequired(where, scopes.join(" ") || "access");
        return basic(credentials);
      }
      if (credentials?.registryToken !== undefined) return `Bearer ${credentials.registryToken}`;
      const key = keyOf(challenge, scopes, credentials);
      let entry = cache.get(key);
      const current = entry && (await entry.catch(() => undefined));
      if (!current || current.expires <= Date.now()) {
        const fetching = fetchToken(challenge, scopes, credentials, where);
        cache.set(key, fetching);
        fetching.catch(() => cache.get(key) === fetching && cache.delete(key));
        entry = fetching;
      }
      return `Bearer ${(await entry!).value}`;
    },
    forget(challenge, scopes, credentials) {
      if (challenge.scheme === "bearer") cache.delete(keyOf(challenge, scopes, credentials));
    },
  };
}

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}
