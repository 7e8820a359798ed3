/**
 * Docker's credential rules (docker/cli `configfile` and `credentials`), so that whatever
 * `docker login` stored works here too:
 * - the folder is `DOCKER_CONFIG`, else `~/.docker`; the file is its `config.json`;
 * - `credHelpers[host]` names a helper for one host, else `credsStore` one for every host; a
 *   helper is `docker-credential-NAME get`, given the server on stdin, answering JSON on stdout;
 *   when a helper is configured, its answer is the only one (none means anonymous);
 * - otherwise `auths`: the exact key, else a key whose host part is the host (`https://h/v1/`);
 *   `auth` is base64 of `user:password`, or `username` and `password`; `identitytoken` is an
 *   OAuth refresh token; `registrytoken` a bearer token used as is;
 * - Docker Hub (`docker.io`, `index.docker.io`, `registry-1.docker.io`) is the key
 *   `https://index.docker.io/v1/`.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { credentialsUnreadable } from "./errors.js";

export type Credentials = {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`, or a helper's answer for user `<token>`). */
  identityToken?: string;
  /** A bearer token sent as is (`registrytoken`). */
  registryToken?: string;
  /** Where they came from, for messages (never the secret): e.g. `docker-credential-pass (credsStore in /root/.docker/config.json)`. */
  source: string;
};

export type CredentialOptions = {
  /** The folder holding `config.json`, as `DOCKER_CONFIG`; default `$DOCKER_CONFIG`, else `~/.docker`. */
  dockerConfig?: string;
  /** The environment: `DOCKER_CONFIG`, `HOME`, and `PATH` for the helpers. Default `process.env`. */
  env?: Record<string, string | undefined>;
};

type AuthEntry = { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string };
type ConfigFile = { auths?: Record<string, AuthEntry>; credsStore?: string; credHelpers?: Record<string, string> };

const hubKey = "https://index.docker.io/v1/";
const hubHosts = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", hubKey]);
const helperTimeoutMs = 60_000;

/** The key Docker stores a registry's credentials under. */
export function configKey(host: string): string {
  return hubHosts.has(host) ? hubKey : host;
}

/**
 * The credentials Docker would use for `host` (`ghcr.io`, `127.0.0.1:5000`, `docker.io`), or
 * undefined for anonymous access. Throws REGISTRY_CREDENTIALS_UNREADABLE when config.json or a
 * helper fails; the error names the file or helper, never a secret.
 */
export async function credentialsFor(host: string, options: CredentialOptions = {}): Promise<Credentials | undefined> {
  const env = options.env ?? process.env;
  const dir = options.dockerConfig ?? env["DOCKER_CONFIG"] ?? path.join(env["HOME"] ?? homedir(), ".docker");
  const file = path.join(dir, "config.json");
  const config = await readConfig(file, host);
  const key = configKey(host);
  const helper = config.credHelpers?.[key];
  if (helper !== undefined) return fromHelper(helper, key, host, env, `credHelpers in ${file}`);
  if (config.credsStore) return fromHelper(config.credsStore, key, host, env, `credsStore in ${file}`);
  const auths = config.auths ?? {};
  const match = key in auths ? key : Object.keys(auths).find((k) => hostOf(k) === key);
  return match === undefined ? undefined : fromEntry(auths[match]!, host, `${file} (auths ${JSON.stringify(match)})`);
}

/** docker/cli's `ConvertToHostname`: the part between the scheme and the first `/`. */
function hostOf(key: string): string {
  return key.replace(/^https?:\/\//, "").split("/", 1)[0]!;
}

async function readConfig(file: string, host: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw credentialsUnreadable(host, `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`, "Make the file readable, or point DOCKER_CONFIG at another folder");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw credentialsUnreadable(host, `${file} is not valid JSON`, "Fix the file, or run `docker login` again to rewrite it");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw credentialsUnreadable(host, `${file} is not a JSON object`, "Fix the file, or run `docker login` again to rewrite it");
  const config = json as Record<string, unknown>;
  const objectField = (name: string) => {
    const value = config[name];
    if (value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value))) return value as Record<string, never> | undefined;
    throw credentialsUnreadable(host, `${name} in ${file} is not an object`, "Fix the file, or run `docker login` again to rewrite it");
  };
  const credsStore = config["credsStore"];
  return {
    auths: objectField("auths"),
    credHelpers: objectField("credHelpers"),
    credsStore: typeof credsStore === "string" ? credsStore : undefined,
  };
}

function fromEntry(entry: AuthEntry, host: string, source: string): Credentials | undefined {
  const out: Credentials = { source };
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0 || !/^[A-Za-z0-9+/=\s]+$/.test(entry.auth)) {
      throw credentialsUnreadable(host, `the "auth" value of ${source} is not base64 of user:password`, `Run \`docker login ${host}\` again to rewrite it`);
    }
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  } else {
    if (typeof entry.username === "string" && entry.username !== "") out.username = entry.username;
    if (typeof entry.password === "string" && entry.password !== "") out.password = entry.password;
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") out.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === "string" && entry.registrytoken !== "") out.registryToken = entry.registrytoken;
  return Object.keys(out).length > 1 ? out : undefined;
}

/** Runs `docker-credential-NAME get` with the server on stdin, as docker-credential-helpers' client does. */
async function fromHelper(name: string, key: string, host: string, env: Record<string, string | undefined>, configured: string): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const source = `${program} (${configured})`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw credentialsUnreadable(host, `${JSON.stringify(name)} in ${configured} is not a credential helper name`, "Name a helper such as `pass`, `secretservice` or `ecr-login`");
  }
  const { code, stdout, spawnError } = await run(program, key, env);
  if (spawnError === "ENOENT") {
    throw credentialsUnreadable(host, `${program} (from ${configured}) is not on PATH`, `Install ${program}, or remove it from the config file`);
  }
  if (spawnError !== undefined) throw credentialsUnreadable(host, `${program} could not run (${spawnError})`, `Check ${program}, or remove it from the config file`);
  if (code !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    // Helpers report errors on stdout; quote the first line unless it could be a credential.
    const line = stdout.trim().split("\n", 1)[0] ?? "";
    const said = line && !/[{}]/.test(line) && line.length <= 200 ? `: ${line}` : "";
    throw credentialsUnreadable(host, `${program} get failed (exit ${code})${said}`, `Run \`echo ${key} | ${program} get\` to see why, or log in again`);
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(stdout) as typeof answer;
  } catch {
    throw credentialsUnreadable(host, `${program} get did not answer JSON`, `Check ${program}, or remove it from the config file`);
  }
  const username = typeof answer.Username === "string" ? answer.Username : "";
  const secret = typeof answer.Secret === "string" ? answer.Secret : "";
  if (secret === "") return undefined;
  return username === "<token>" ? { identityToken: secret, source } : { username, password: secret, source };
}

type HelperRun = { code: number | null; stdout: string; spawnError?: string };

function run(program: string, input: string, env: Record<string, string | undefined>): Promise<HelperRun> {
  return new Promise((resolve) => {
    const child = spawn(program, ["get"], { env, stdio: ["pipe", "pipe", "ignore"], timeout: helperTimeoutMs });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1 << 20) chunks.push(chunk);
    });
    child.on("error", (error: NodeJS.ErrnoException) => resolve({ code: null, stdout: "", spawnError: error.code ?? error.message }));
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(chunks).toString("utf8");
      resolve(signal ? { code: null, stdout, spawnError: `stopped by ${signal}; helpers get ${helperTimeoutMs / 1000} s to answer` } : { code, stdout });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}
