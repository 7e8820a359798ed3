/**
 * A bearer-token service for Distribution's `auth: token` mode, run in the test process: HTTPS
 * with the test CA's certificate, users with passwords or refresh tokens, and a policy of which
 * actions each may take on each repository. It signs ES256 JWTs with the signer key and puts the
 * signer's certificate in `x5c`, which the registry checks against its `rootcertbundle`. It
 * records every token request, so tests can count them and see the scopes asked for.
 */
import { randomUUID, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TestCertificates } from "./certs.ts";

/** Actions a user (or `anonymous`) may take on a repository. */
export type Policy = (user: string | undefined, repository: string) => readonly ("pull" | "push")[];

export type TokenUser = { password?: string; refreshToken?: string };

export type TokenRequest = { method: string; user: string | undefined; scopes: string[]; grant: "basic" | "anonymous" | "refresh_token"; status: number };

export type TokenServer = {
  /** The URL the registry's challenges name. */
  realm: string;
  service: string;
  issuer: string;
  /** The signer's certificate, for the registry's `rootcertbundle`. */
  rootCertBundle: string;
  requests: TokenRequest[];
  /** A token granting exactly `access`, for test setup (pushing fixtures). */
  mint(access: { name: string; actions: string[] }[]): string;
  stop(): Promise<void>;
};

export type Access = { type: string; name: string; actions: string[] };

export async function startTokenServer(certs: TestCertificates, users: Record<string, TokenUser>, policy: Policy): Promise<TokenServer> {
  const signerKey = readFileSync(certs.signerKeyFile, "utf8");
  const x5c = readFileSync(certs.signerCertFile, "utf8").replace(/-----[A-Z ]+-----|\s/g, "");
  const service = "dockwright-test-registry";
  const issuer = "dockwright-test-issuer";
  const requests: TokenRequest[] = [];

  const mint = (access: Access[], subject = "") => {
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const header = encode({ typ: "JWT", alg: "ES256", x5c: [x5c] });
    const claims = encode({
      iss: issuer, sub: subject, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(),
      access,
    });
    const signature = sign("sha256", Buffer.from(`${header}.${claims}`), { key: signerKey, dsaEncoding: "ieee-p1363" }).toString("base64url");
    return `${header}.${claims}.${signature}`;
  };

  const grant = (user: string | undefined, scopes: string[]): Access[] =>
    scopes.flatMap((scope) => {
      const [type, name, actions] = [scope.slice(0, scope.indexOf(":")), scope.slice(scope.indexOf(":") + 1, scope.lastIndexOf(":")), scope.slice(scope.lastIndexOf(":") + 1)];
      if (type !== "repository") return [];
      const allowed = policy(user, name);
      const given = actions.split(",").filter((a) => (allowed as readonly string[]).includes(a));
      return given.length > 0 ? [{ type, name, actions: given }] : [];
    });

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "https://x");
    if (url.pathname !== "/token") return answer(res, 404, { error: "not found" });
    let user: string | undefined;
    let scopes: string[];
    let kind: TokenRequest["grant"];
    if (req.method === "POST") {
      let text = "";
      for await (const chunk of req) text += String(chunk);
      const form = new URLSearchParams(text);
      kind = "refresh_token";
      scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
      user = Object.entries(users).find(([, u]) => u.refreshToken !== undefined && u.refreshToken === form.get("refresh_token"))?.[0];
      if (form.get("grant_type") !== "refresh_token" || user === undefined) {
        requests.push({ method: "POST", user: undefined, scopes, grant: kind, status: 401 });
        return answer(res, 401, { error: "invalid_grant" });
      }
    } else {
      scopes = url.searchParams.getAll("scope");
      const header = req.headers.authorization ?? "";
      kind = header ? "basic" : "anonymous";
      if (header) {
        const [name, password] = Buffer.from(header.replace(/^Basic /, ""), "base64").toString("utf8").split(/:(.*)/s) as [string, string];
        if (users[name]?.password === undefined || users[name].password !== password) {
          requests.push({ method: "GET", user: name, scopes, grant: kind, status: 401 });
          return answer(res, 401, { details: "incorrect username or password" });
        }
        user = name;
      }
    }
    requests.push({ method: req.method ?? "GET", user, scopes, grant: kind, status: 200 });
    const token = mint(grant(user, scopes), user ?? "");
    // Half the answers say `token`, half `access_token`: clients must read both.
    answer(res, 200, requests.length % 2 === 0 ? { token, expires_in: 300, issued_at: new Date().toISOString() } : { access_token: token, expires_in: 300 });
  }

  const server = createServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, (req, res) => {
    handle(req, res).catch(() => answer(res, 500, { error: "token server failed" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `https://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certs.signerCertFile,
    requests,
    mint: (access) => mint(access.map((a) => ({ type: "repository", ...a }))),
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
