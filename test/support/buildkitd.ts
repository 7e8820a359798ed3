/**
 * A real BuildKit daemon for the tests: `buildkitd` (found by `toolPath("buildkitd")`, which honours
 * $BUILDKITD) as root, with its state folder and socket in a temporary folder, stopped and removed
 * at the end. Optionally also on `tcp://127.0.0.1:PORT` with TLS from a test CA made with openssl
 * (client certificates required, as `buildkitd --tlscacert` does), and configured to reach test
 * registries over plain HTTP. Run it under the heavy-job lock: `flock /tmp/dockwright-heavy.lock`.
 *
 *   const daemon = await startBuildkitd({ registries: [registry.host], tls: true });
 *   // daemon.address: "unix:///tmp/.../buildkitd.sock"; daemon.tls: addresses and files for TLS
 *   await daemon.stop();
 */
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./registry.ts";
import { toolPath } from "./tools.ts";
import { stopDaemon } from "./daemon.ts";

/** Files of a test certificate authority and of what it signed (PEM). */
export type TestCertificates = {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
};

export type Buildkitd = {
  /** `unix:///.../buildkitd.sock`. */
  address: string;
  /** With `tls: true`: the TCP address and the certificates (server name `buildkitd.test`). */
  tls?: TestCertificates & { address: string; serverName: string };
  /** The state folder (`--root`), the log (`buildkitd.log`) and the config beside it. */
  dir: string;
  /** The end of the daemon's log, for failure messages. */
  log(): Promise<string>;
  /** Kills the daemon at once (SIGKILL), as a crash would; `stop()` still cleans up. */
  kill(): void;
  stop(): Promise<void>;
};

export type BuildkitdOptions = {
  /** Registries (`HOST:PORT`) the daemon reaches over plain HTTP, as `startRegistry()` serves them. */
  registries?: readonly string[];
  /** Also listen on tcp://127.0.0.1:PORT with TLS and client certificates from a test CA. */
  tls?: boolean;
};

/** Starts buildkitd and waits until it answers; throws with its log when it does not start. */
export async function startBuildkitd(options: BuildkitdOptions = {}): Promise<Buildkitd> {
  const bin = toolPath("buildkitd");
  if (!bin) throw new Error("buildkitd is not installed (BuildKit v0.11.6 release archive; or set $BUILDKITD)");
  const dir = await mkdtemp(path.join(tmpdir(), "dockwright-buildkitd-"));
  const socket = path.join(dir, "buildkitd.sock");
  const config = path.join(dir, "buildkitd.toml");
  await writeFile(config, [
    "# Written by test/support/buildkitd.ts",
    "[worker.oci]",
    "  gc = false",
    ...(options.registries ?? []).flatMap((host) => [`[registry.${JSON.stringify(host)}]`, "  http = true", "  insecure = true"]),
    "",
  ].join("\n"));
  const args = ["--root", path.join(dir, "root"), "--config", config, "--addr", `unix://${socket}`, "--oci-worker=true", "--containerd-worker=false"];
  let tls: Buildkitd["tls"];
  if (options.tls) {
    const port = await freePort();
    const certs = await createTestCertificates(path.join(dir, "certs"), "buildkitd.test");
    tls = { ...certs, address: `tcp://127.0.0.1:${port}`, serverName: "buildkitd.test" };
    args.push("--addr", tls.address, "--tlscacert", certs.ca, "--tlscert", certs.serverCert, "--tlskey", certs.serverKey);
  }
  const logFile = path.join(dir, "buildkitd.log");
  const daemon = spawn(bin, args, { stdio: ["ignore", openSync(logFile, "a"), openSync(logFile, "a")] });
  const log = async () => (await readFile(logFile, "utf8").catch(() => "")).slice(-4000);
  const stop = async () => {
    await stopDaemon(daemon);
    await rm(dir, { recursive: true, force: true });
  };
  for (let waited = 0; ; waited += 100) {
    if (await answers(socket)) break;
    if (daemon.exitCode !== null || waited > 30_000) {
      const tail = await log();
      await stop();
      throw new Error(`buildkitd did not start${daemon.exitCode !== null ? ` (exit code ${daemon.exitCode})` : " within 30 s"}:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { address: `unix://${socket}`, ...(tls ? { tls } : {}), dir, log, kill: () => void daemon.kill("SIGKILL"), stop };
}

/** Does the socket accept a connection? buildkitd creates it once its gRPC server listens. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = connect(socket);
    conn.once("connect", () => {
      conn.destroy();
      resolve(true);
    });
    conn.once("error", () => resolve(false));
  });
}

/**
 * A test CA (in `dir`) and, signed by it, a server certificate for `serverName` and 127.0.0.1 and
 * a client certificate, made with openssl. Each call makes a new CA: a second one is "the wrong CA".
 */
export async function createTestCertificates(dir: string, serverName: string): Promise<TestCertificates> {
  const openssl = toolPath("openssl");
  if (!openssl) throw new Error("openssl is not installed (apt-get install openssl)");
  await mkdir(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const run = (args: string[]) => new Promise<void>((resolve, reject) => {
    const child = spawn(openssl, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`openssl ${args.join(" ")}: ${stderr}`))));
  });
  await run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=dockwright test CA", "-keyout", file("ca-key.pem"), "-out", file("ca.pem")]);
  const sign = async (name: string, subject: string, extensions: string) => {
    await writeFile(file(`${name}.ext`), `${extensions}\n`);
    await run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject,
      "-keyout", file(`${name}-key.pem`), "-out", file(`${name}.csr`)]);
    await run(["x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.pem"), "-CAkey", file("ca-key.pem"), "-CAcreateserial",
      "-days", "2", "-extfile", file(`${name}.ext`), "-out", file(`${name}.pem`)]);
  };
  await sign("server", `/CN=${serverName}`, `subjectAltName=DNS:${serverName},IP:127.0.0.1\nextendedKeyUsage=serverAuth`);
  await sign("client", "/CN=dockwright test client", "extendedKeyUsage=clientAuth");
  return { dir, ca: file("ca.pem"), serverCert: file("server.pem"), serverKey: file("server-key.pem"), clientCert: file("client.pem"), clientKey: file("client-key.pem") };
}
