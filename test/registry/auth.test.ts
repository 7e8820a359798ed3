/**
 * Credentials, TLS and bearer tokens against real registries: Distribution with htpasswd basic
 * auth behind TLS (a test CA), and Distribution in token mode, whose challenges send the client
 * to a token service run here. No secret may appear in an error message or a log line.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistryClient, registryCodes, type RegistryClientOptions } from "@dockwright/registry";
import { makeCertificates, type TestCertificates } from "../support/certs.ts";
import { pushImage } from "../support/push-image.ts";
import { startRegistry, type Registry } from "../support/registry.ts";
import { startTokenServer, type TokenServer } from "../support/token-server.ts";
import { lacks } from "../support/tools.ts";

const secrets = {
  alice: "alice-basic-Pa55word",
  bob: "bob-token-Pa55word",
  reader: "reader-Pa55word",
  wrong: "not-the-Pa55word",
  refresh: "robot-refresh-t0ken",
};
const basicAuth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString("base64");

describe.skipIf(lacks("registry", "openssl", "htpasswd"))("registry client: credentials, TLS and tokens", () => {
  let dir: string;
  let certs: TestCertificates;
  let basic: Registry;
  let tokens: TokenServer;
  let tokenRegistry: Registry;
  const logs: string[] = [];
  const messages: string[] = [];

  /** A client with its own config.json (and PATH, for helpers); errors and logs are kept for the secret check. */
  async function clientWith(config: object | undefined, options: RegistryClientOptions = {}) {
    const configDir = await mkdtemp(path.join(dir, "docker-config-"));
    if (config) await writeFile(path.join(configDir, "config.json"), JSON.stringify(config));
    const client = createRegistryClient({ ca: certs.ca, dockerConfig: configDir, env: { PATH: `${path.join(dir, "bin")}:${process.env["PATH"]}`, HELPER_LOG: path.join(dir, "helper.log") }, log: (line) => logs.push(line), ...options });
    const failure = async (promise: Promise<unknown>) => {
      const error = await promise.then(() => undefined, (e: unknown) => e);
      if (!(error instanceof Error)) throw new Error("expected a failure");
      messages.push(error.message);
      return error;
    };
    return { client, failure };
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "dockwright-registry-auth-"));
    certs = makeCertificates(dir);
    tokens = await startTokenServer(certs, {
      bob: { password: secrets.bob },
      reader: { password: secrets.reader },
      robot: { refreshToken: secrets.refresh },
    }, (user, repository) => {
      if (user === "bob") return ["pull", "push"];
      if (user === "reader") return ["pull"];
      if (user === "robot") return repository.startsWith("robot/") ? ["pull", "push"] : [];
      return repository.startsWith("public/") ? ["pull"] : [];
    });
    [basic, tokenRegistry] = await Promise.all([
      startRegistry({ tls: certs, htpasswd: { alice: secrets.alice } }),
      startRegistry({ tls: certs, token: tokens }),
    ]);
    // A stand-in credential helper: answers for the basic registry, else "not found"; logs its input.
    await writeFile(path.join(dir, "helper.sh"), [
      "#!/bin/sh",
      'input=$(cat)',
      'printf "%s %s\\n" "$1" "$input" >> "$HELPER_LOG"',
      '[ "$1" = get ] || exit 3',
      `if [ "$input" = "${basic.host}" ]; then printf '{"ServerURL":"%s","Username":"alice","Secret":"${secrets.alice}"}' "$input"; exit 0; fi`,
      'echo "credentials not found in native keychain"; exit 1',
      "",
    ].join("\n"), { mode: 0o755 });
    await mkdir(path.join(dir, "bin"));
    await symlink(path.join(dir, "helper.sh"), path.join(dir, "bin", "docker-credential-test"));
    await symlink(path.join(dir, "helper.sh"), path.join(dir, "bin", "docker-credential-teststore"));
    await pushImage({ url: basic.url, repository: "team/app", ca: certs.ca, authorization: `Basic ${basicAuth("alice", secrets.alice)}` }, { config: { User: "alice" } }, "v1");
    for (const repository of ["public/app", "private/app", "robot/app"]) {
      await pushImage({ url: tokenRegistry.url, repository, ca: certs.ca, authorization: `Bearer ${tokens.mint([{ name: repository, actions: ["pull", "push"] }])}` }, {}, "v1");
    }
  });

  afterAll(async () => {
    await Promise.all([basic?.stop(), tokenRegistry?.stop(), tokens?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe("basic auth behind TLS", () => {
    it("takes credentials from config.json auths (auth, or username and password, under any key form)", async () => {
      for (const entry of [
        { [basic.host]: { auth: basicAuth("alice", secrets.alice) } },
        { [basic.host]: { username: "alice", password: secrets.alice } },
        { [`https://${basic.host}/v2/`]: { auth: basicAuth("alice", secrets.alice) } },
      ]) {
        const { client } = await clientWith({ auths: entry });
        expect((await client.imageConfig(`${basic.host}/team/app:v1`, "linux/amd64")).config.config?.User).toBe("alice");
        await client.close();
      }
    });

    it("reads DOCKER_CONFIG from the environment", async () => {
      const configDir = await mkdtemp(path.join(dir, "env-config-"));
      await writeFile(path.join(configDir, "config.json"), JSON.stringify({ auths: { [basic.host]: { auth: basicAuth("alice", secrets.alice) } } }));
      const client = createRegistryClient({ ca: certs.ca, env: { DOCKER_CONFIG: configDir } });
      expect(await client.exists(`${basic.host}/team/app:v1`)).toBe(true);
      await client.close();
    });

    it("runs the credHelpers helper for its host, with the host on stdin", async () => {
      const { client } = await clientWith({ credHelpers: { [basic.host]: "test" }, auths: { [basic.host]: { auth: basicAuth("alice", secrets.wrong) } } });
      expect(await client.exists(`${basic.host}/team/app:v1`)).toBe(true);
      expect(await client.exists(`${basic.host}/team/app:v2`)).toBe(false);
      await client.close();
      // Once per client, however many requests.
      expect((await readFile(path.join(dir, "helper.log"), "utf8")).split("\n").filter((l) => l === `get ${basic.host}`)).toHaveLength(1);
    });

    it("runs the credsStore helper for every host, and goes anonymous when it has nothing", async () => {
      const { client } = await clientWith({ credsStore: "teststore", auths: { [basic.host]: {} } });
      expect((await client.resolve(`${basic.host}/team/app:v1`)).digest).toMatch(/^sha256:/);
      await client.close();
      // The helper knows nothing of the token registry: anonymous, and public/ is public.
      const second = await clientWith({ credsStore: "teststore" });
      expect(await second.client.exists(`${tokenRegistry.host}/public/app:v1`)).toBe(true);
      const error = await second.failure(second.client.exists(`${tokenRegistry.host}/private/app:v1`));
      expect(error).toMatchObject({ code: registryCodes.ACCESS_DENIED, registry: tokenRegistry.host });
      expect(error.message).toContain("anonymous clients");
      await second.client.close();
    });

    it("asks for credentials when there are none, naming the registry and the fix", async () => {
      const { client, failure } = await clientWith(undefined);
      const error = await failure(client.resolve(`${basic.host}/team/app:v1`));
      expect(error).toMatchObject({ code: registryCodes.AUTH_REQUIRED, registry: basic.host, reference: `${basic.host}/team/app:v1` });
      expect(error.message).toContain(`docker login ${basic.host}`);
      await client.close();
    });

    it("says clearly that wrong credentials were refused, and where they came from", async () => {
      const { client, failure } = await clientWith({ auths: { [basic.host]: { auth: basicAuth("alice", secrets.wrong) } } });
      const error = await failure(client.resolve(`${basic.host}/team/app:v1`));
      expect(error).toMatchObject({ code: registryCodes.AUTH_REFUSED, registry: basic.host });
      expect(error.message).toContain(`${basic.host}/team/app:v1: registry ${basic.host} refused the credentials from ${path.join(dir, "docker-config-")}`);
      expect(error.message).toContain(`config.json (auths "${basic.host}")`);
      await client.close();
    });

    it("verifies TLS with the given CA, fails without it, and skips verification for insecure hosts", async () => {
      const config = { auths: { [basic.host]: { auth: basicAuth("alice", secrets.alice) } } };
      const { client, failure } = await clientWith(config, { ca: [] });
      const error = await failure(client.resolve(`${basic.host}/team/app:v1`));
      expect(error).toMatchObject({ code: registryCodes.TLS_FAILED, registry: basic.host });
      expect(error.message).toContain("Pass the CA");
      await client.close();
      const insecure = await clientWith(config, { ca: [], insecure: [basic.host] });
      expect(await insecure.client.exists(`${basic.host}/team/app:v1`)).toBe(true);
      await insecure.client.close();
    });
  });

  describe("bearer tokens", () => {
    it("fetches an anonymous token for a public repository, with exactly the scope it needs, once", async () => {
      const before = tokens.requests.length;
      const { client } = await clientWith(undefined);
      expect((await client.resolve(`${tokenRegistry.host}/public/app:v1`)).digest).toMatch(/^sha256:/);
      expect(await client.exists(`${tokenRegistry.host}/public/app:v1`)).toBe(true);
      expect(await client.exists(`${tokenRegistry.host}/public/app:v2`)).toBe(false);
      await client.close();
      expect(tokens.requests.slice(before)).toEqual([{ method: "GET", user: undefined, scopes: ["repository:public/app:pull"], grant: "anonymous", status: 200 }]);
    });

    it("fetches tokens with credentials: pull, then push and pull for a re-tag", async () => {
      const before = tokens.requests.length;
      const { client } = await clientWith({ auths: { [tokenRegistry.host]: { auth: basicAuth("bob", secrets.bob) } } });
      const source = await client.resolve(`${tokenRegistry.host}/private/app:v1`);
      const tagged = await client.tag(`${tokenRegistry.host}/private/app:v1`, `${tokenRegistry.host}/private/app:v1-copy`);
      expect(tagged.digest).toBe(source.digest);
      const copied = await client.tag(`${tokenRegistry.host}/private/app:v1`, `${tokenRegistry.host}/private/other:v1`);
      expect(copied.digest).toBe(source.digest);
      await client.close();
      expect(tokens.requests.slice(before).map((r) => [r.user, r.grant, r.scopes])).toEqual([
        ["bob", "basic", ["repository:private/app:pull"]],
        ["bob", "basic", ["repository:private/app:pull,push"]],
        ["bob", "basic", ["repository:private/other:pull,push", "repository:private/app:pull"]],
      ]);
    });

    it("refuses a push the token's scope does not allow, naming the scope", async () => {
      const { client, failure } = await clientWith({ auths: { [tokenRegistry.host]: { username: "reader", password: secrets.reader } } });
      expect(await client.exists(`${tokenRegistry.host}/private/app:v1`)).toBe(true);
      const error = await failure(client.tag(`${tokenRegistry.host}/private/app:v1`, `${tokenRegistry.host}/private/app:v9`));
      expect(error).toMatchObject({ code: registryCodes.ACCESS_DENIED, registry: tokenRegistry.host });
      expect(error.message).toContain("denies repository:private/app:pull,push to the credentials from");
      await client.close();
    });

    it("says when the token service refuses the credentials", async () => {
      const { client, failure } = await clientWith({ auths: { [tokenRegistry.host]: { auth: basicAuth("bob", secrets.wrong) } } });
      const error = await failure(client.resolve(`${tokenRegistry.host}/private/app:v1`));
      expect(error).toMatchObject({ code: registryCodes.AUTH_REFUSED, registry: tokenRegistry.host });
      expect(error.message).toContain("the token service answered 401");
      await client.close();
    });

    it("trades an identity token for an access token (OAuth2 refresh grant)", async () => {
      const before = tokens.requests.length;
      const { client, failure } = await clientWith({ auths: { [tokenRegistry.host]: { identitytoken: secrets.refresh } } });
      expect(await client.exists(`${tokenRegistry.host}/robot/app:v1`)).toBe(true);
      const error = await failure(client.resolve(`${tokenRegistry.host}/private/app:v1`));
      expect(error).toMatchObject({ code: registryCodes.ACCESS_DENIED });
      await client.close();
      expect(tokens.requests.slice(before).map((r) => [r.method, r.grant, r.user])).toEqual([["POST", "refresh_token", "robot"], ["POST", "refresh_token", "robot"]]);
    });
  });

  it("never puts a secret into an error message or a log line", () => {
    expect(logs.length).toBeGreaterThan(20);
    expect(messages.length).toBeGreaterThan(5);
    const encoded = Object.values(secrets).flatMap((s) => [s, Buffer.from(s).toString("base64")]);
    encoded.push(basicAuth("alice", secrets.alice), basicAuth("alice", secrets.wrong), basicAuth("bob", secrets.bob), basicAuth("bob", secrets.wrong));
    for (const text of [...logs, ...messages]) for (const secret of encoded) expect(text).not.toContain(secret);
  });
});
