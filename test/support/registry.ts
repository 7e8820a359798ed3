/**
 * A real registry for the tests: Debian's `docker-registry` (Distribution 2.8) on 127.0.0.1, its
 * storage in a temporary folder, stopped at the end. `startRegistry()` serves plain HTTP (callers
 * mark it insecure); options add HTTPS with a test CA's certificate, htpasswd basic auth (bcrypt,
 * made by `htpasswd -B`), or Distribution's token auth pointed at a test token service.
 */
import { execFileSync, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent, fetch } from "undici";
import type { TestCertificates } from "./certs.ts";
import type { TokenServer } from "./token-server.ts";
import { toolPath } from "./tools.ts";

export type Registry = {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  host: string;
  /** `http://HOST` or `https://HOST`. */
  url: string;
  dir: string;
  stop(): Promise<void>;
};

export type RegistryOptions = {
  /** Serve HTTPS with the server certificate of these test certificates. */
  tls?: TestCertificates;
  /** Basic auth: user name -> password, stored bcrypt-hashed by `htpasswd -B`. */
  htpasswd?: Record<string, string>;
  /** Token auth: challenges name this service's realm; tokens must be signed by its signer. */
  token?: TokenServer;
  /** Listen on [::1] instead of 127.0.0.1. */
  ipv6?: boolean;
};

/** A free TCP port on the loopback interface. */
export function freePort(address = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, address, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts a registry (plain HTTP unless `tls`); throws when `docker-registry` is missing or does not come up. */
export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const bin = toolPath("registry");
  if (!bin) throw new Error("docker-registry is not installed (apt-get install docker-registry)");
  const dir = await mkdtemp(path.join(tmpdir(), "dockwright-registry-"));
  const port = await freePort(options.ipv6 ? "::1" : "127.0.0.1");
  const host = options.ipv6 ? `[::1]:${port}` : `127.0.0.1:${port}`;
  const url = `${options.tls ? "https" : "http"}://${host}`;
  const config = path.join(dir, "config.yml");
  const lines = [
    "version: 0.1",
    "log: {level: warn}",
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, "data"))}}, delete: {enabled: true}}`,
    options.tls
      ? `http: {addr: ${JSON.stringify(host)}, tls: {certificate: ${JSON.stringify(options.tls.certFile)}, key: ${JSON.stringify(options.tls.keyFile)}}}`
      : `http: {addr: ${JSON.stringify(host)}}`,
  ];
  if (options.htpasswd) {
    const file = path.join(dir, "htpasswd");
    await writeFile(file, Object.entries(options.htpasswd).map(([user, password]) => htpasswdLine(user, password)).join(""));
    lines.push(`auth: {htpasswd: {realm: dockwright-test, path: ${JSON.stringify(file)}}}`);
  }
  if (options.token) {
    const t = options.token;
    lines.push(`auth: {token: {realm: ${JSON.stringify(t.realm)}, service: ${JSON.stringify(t.service)}, issuer: ${JSON.stringify(t.issuer)}, rootcertbundle: ${JSON.stringify(t.rootCertBundle)}}}`);
  }
  await writeFile(config, `${lines.join("\n")}\n`);
  const log = path.join(dir, "registry.log");
  const child = spawn(bin, ["serve", config], { stdio: ["ignore", openSync(log, "a"), openSync(log, "a")] });
  let exited = false;
  child.on("exit", () => (exited = true));
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    await rm(dir, { recursive: true, force: true });
  };
  const dispatcher = options.tls ? new Agent({ connect: { ca: options.tls.ca } }) : undefined;
  try {
    for (let waited = 0; ; waited += 100) {
      // Any answer from /v2/ (200, or 401 with auth) means it is up.
      const up = await fetch(`${url}/v2/`, dispatcher ? { dispatcher } : {}).then((r) => r.status === 200 || r.status === 401, () => false);
      if (up) return { host, url, dir, stop };
      if (exited || waited > 15_000) {
        const tail = await readFile(log, "utf8").catch(() => "");
        await stop();
        throw new Error(`docker-registry did not start on ${host}:\n${tail.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await dispatcher?.close();
  }
}

/** One bcrypt line, as Distribution requires (`htpasswd -B`), the password given on stdin. */
function htpasswdLine(user: string, password: string): string {
  const bin = toolPath("htpasswd");
  if (!bin) throw new Error("htpasswd is not installed (apt-get install apache2-utils)");
  return execFileSync(bin, ["-niB", user], { input: password, encoding: "utf8" }).trim() + "\n";
}
