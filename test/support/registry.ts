/**
 * A real registry for the tests: Debian's `docker-registry` (Distribution 2.8) on 127.0.0.1, its
 * storage in a temporary folder, stopped at the end. Plain HTTP; callers mark it insecure.
 */
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { toolPath } from "./tools.ts";

export type Registry = {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  host: string;
  dir: string;
  stop(): Promise<void>;
};

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts a plain-HTTP registry; throws when `docker-registry` is missing or does not come up. */
export async function startRegistry(): Promise<Registry> {
  const bin = toolPath("registry");
  if (!bin) throw new Error("docker-registry is not installed (apt-get install docker-registry)");
  const dir = await mkdtemp(path.join(tmpdir(), "dockwright-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, "config.yml");
  await writeFile(config, [
    "version: 0.1",
    "log: {level: warn}",
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, "data"))}}, delete: {enabled: true}}`,
    `http: {addr: ${JSON.stringify(host)}}`,
    "",
  ].join("\n"));
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
  for (let waited = 0; ; waited += 100) {
    const up = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (up) return { host, dir, stop };
    if (exited || waited > 15_000) {
      const tail = await readFile(log, "utf8").catch(() => "");
      await stop();
      throw new Error(`docker-registry did not start on ${host}:\n${tail.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
