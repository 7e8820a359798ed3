import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsFor } from "./credentials.js";
import { registryCodes } from "./errors.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("credentialsFor: Docker's rules", () => {
  let dir: string;
  let bin: string;
  let n = 0;

  /** A config folder holding `config` as config.json; PATH has the stand-in helpers. */
  async function lookup(host: string, config: unknown) {
    const folder = path.join(dir, `config-${n++}`);
    await mkdir(folder);
    await writeFile(path.join(folder, "config.json"), typeof config === "string" ? config : JSON.stringify(config));
    return credentialsFor(host, { dockerConfig: folder, env: { PATH: `${bin}:/usr/bin:/bin`, HELPER_LOG: path.join(dir, "helper.log") } });
  }
  const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error("expected a failure"); }, (e: Error) => e);

  async function helper(name: string, body: string) {
    const file = path.join(bin, `docker-credential-${name}`);
    await writeFile(file, `#!/bin/sh\ninput=$(cat)\nprintf '%s|%s\\n' "$1" "$input" >> "$HELPER_LOG"\n${body}\n`);
    await chmod(file, 0o755);
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "dockwright-credentials-"));
    bin = path.join(dir, "bin");
    await mkdir(bin);
    await helper("good", `printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$input"`);
    await helper("token", `printf '{"Username":"<token>","Secret":"refresh-123"}'`);
    await helper("none", `echo "credentials not found in native keychain"; exit 1`);
    await helper("broken", `echo "the keychain is locked"; exit 1`);
    await helper("leaky", `printf '{"Secret":"half-written'; exit 1`);
    await helper("garbled", `echo "not json"`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("decodes auths entries: auth, username and password, identity and registry tokens", async () => {
    expect(await lookup("r.io", { auths: { "r.io": { auth: b64("me:pa:ss") } } })).toEqual({ username: "me", password: "pa:ss", source: expect.stringContaining('(auths "r.io")') });
    expect(await lookup("r.io", { auths: { "r.io": { username: "me", password: "pw" } } })).toMatchObject({ username: "me", password: "pw" });
    expect(await lookup("r.io", { auths: { "r.io": { identitytoken: "id-tok" } } })).toMatchObject({ identityToken: "id-tok" });
    expect(await lookup("r.io", { auths: { "r.io": { registrytoken: "bearer-tok" } } })).toMatchObject({ registryToken: "bearer-tok" });
    expect(await lookup("r.io", { auths: { "r.io": {} } })).toBeUndefined();
    expect(await lookup("r.io", { auths: { "other.io": { auth: b64("a:b") } } })).toBeUndefined();
    expect(await credentialsFor("r.io", { dockerConfig: path.join(dir, "missing"), env: {} })).toBeUndefined();
  });

  it("matches keys written as URLs by their host, as docker/cli does", async () => {
    for (const key of ["https://r.io", "https://r.io/v2/", "http://r.io/", "r.io/v1/"]) {
      expect(await lookup("r.io", { auths: { [key]: { auth: b64("u:p") } } })).toMatchObject({ username: "u" });
    }
    expect(await lookup("r.io:5000", { auths: { "r.io": { auth: b64("u:p") } } })).toBeUndefined();
  });

  it("keeps Docker Hub's credentials under https://index.docker.io/v1/ for each of its names", async () => {
    const config = { auths: { "https://index.docker.io/v1/": { auth: b64("hub:pw") } } };
    for (const host of ["docker.io", "index.docker.io", "registry-1.docker.io"]) expect(await lookup(host, config)).toMatchObject({ username: "hub" });
    // Docker itself never reads a plain `docker.io` key.
    expect(await lookup("docker.io", { auths: { "docker.io": { auth: b64("hub:pw") } } })).toBeUndefined();
  });

  it("asks credHelpers before credsStore before auths, giving the helper the server on stdin", async () => {
    const auths = { "r.io": { auth: b64("file:pw") }, "https://index.docker.io/v1/": { auth: b64("file:pw") } };
    expect(await lookup("r.io", { credHelpers: { "r.io": "good" }, credsStore: "none", auths })).toEqual({ username: "helper-user", password: "helper-secret", source: expect.stringMatching(/^docker-credential-good \(credHelpers in .*config\.json\)$/) });
    expect(await lookup("r.io", { credsStore: "good", auths })).toMatchObject({ username: "helper-user", source: expect.stringContaining("credsStore") });
    // A configured helper that knows nothing means anonymous, even with an auths entry.
    expect(await lookup("r.io", { credsStore: "none", auths })).toBeUndefined();
    expect(await lookup("docker.io", { credHelpers: { "https://index.docker.io/v1/": "good" } })).toMatchObject({ username: "helper-user" });
    expect(await lookup("q.io", { credsStore: "token" })).toEqual({ identityToken: "refresh-123", source: expect.any(String) });
    const log = (await readFile(path.join(dir, "helper.log"), "utf8")).trim().split("\n");
    expect(log).toEqual(["get|r.io", "get|r.io", "get|r.io", "get|https://index.docker.io/v1/", "get|q.io"]);
  });

  it("explains unreadable files and failing helpers without quoting secrets", async () => {
    const cases: [string, unknown, RegExp][] = [
      ["r.io", "{not json", /config\.json is not valid JSON/],
      ["r.io", "[]", /is not a JSON object/],
      ["r.io", { auths: [] }, /auths in .* is not an object/],
      ["r.io", { auths: { "r.io": { auth: b64("no-colon-secret") } } }, /the "auth" value of .*\(auths "r\.io"\) is not base64 of user:password/],
      ["r.io", { credsStore: "missing" }, /docker-credential-missing \(from credsStore in .*\) is not on PATH/],
      ["r.io", { credsStore: "../evil" }, /is not a credential helper name/],
      ["r.io", { credsStore: "broken" }, /docker-credential-broken get failed \(exit 1\): the keychain is locked/],
      ["r.io", { credsStore: "leaky" }, /docker-credential-leaky get failed \(exit 1\)\. /],
      ["r.io", { credsStore: "garbled" }, /did not answer JSON/],
    ];
    for (const [host, config, message] of cases) {
      const error = await failure(lookup(host, config));
      expect(error).toMatchObject({ code: registryCodes.CREDENTIALS_UNREADABLE, registry: host });
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/no-colon-secret|half-written/);
    }
  });

  it("finds config.json through DOCKER_CONFIG, else HOME/.docker", async () => {
    const home = path.join(dir, "home");
    await mkdir(path.join(home, ".docker"), { recursive: true });
    await writeFile(path.join(home, ".docker", "config.json"), JSON.stringify({ auths: { "h.io": { auth: b64("home:pw") } } }));
    expect(await credentialsFor("h.io", { env: { HOME: home } })).toMatchObject({ username: "home" });
    expect(await credentialsFor("h.io", { env: { HOME: home, DOCKER_CONFIG: path.join(dir, "elsewhere") } })).toBeUndefined();
    expect(await credentialsFor("h.io", { env: { DOCKER_CONFIG: path.join(home, ".docker") } })).toMatchObject({ username: "home" });
  });
});
