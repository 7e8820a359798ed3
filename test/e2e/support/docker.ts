/**
 * A Docker engine of the tests' own: dockerd with its data, exec root and socket in a temporary
 * folder, no iptables and no bridge (builds use `--network host`), stopped at the end.
 */
import { spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { baseCmd, baseImage, basePath, writeRootfs, type RootfsOptions } from "./base-image.ts";
import { normalizeConfig, type ConfigView } from "./images.ts";
import { lacks, toolPath } from "../../support/tools.ts";
import { ok, run, type Env, type Result } from "./run.ts";
import { stopDaemon } from "../../support/daemon.ts";

/**
 * Debian's client (20.10) drives BuildKit without buildx; a newer client earlier on PATH refuses
 * BuildKit builds without the buildx component.
 */
export const dockerClient = process.env["DOCKWRIGHT_TEST_DOCKER"] ?? (existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");

export type Docker = {
  bin: string;
  /** The environment that points the client at this engine. */
  env: Env;
  dir: string;
  ok(args: readonly string[], env?: Env): Promise<string>;
  run(args: readonly string[], env?: Env): Promise<Result>;
  config(image: string): Promise<ConfigView>;
  /** Exports a container of the image to a folder and calls `use` with it. */
  withRootfs<T>(image: string, use: (root: string) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
};

/** Starts the engine, or says why it cannot run here. */
export async function startDocker(): Promise<Docker | { skip: string }> {
  // Under CI=true a missing engine fails instead.
  if (lacks("dockerd")) return { skip: "dockerd is not installed (Debian: apt-get install docker.io)" };
  const dockerd = toolPath("dockerd")!;
  const dir = await mkdtemp(path.join(tmpdir(), "dockwright-e2e-docker-"));
  const socket = `unix://${dir}/docker.sock`;
  const log = path.join(dir, "dockerd.log");
  const daemon = spawn(dockerd, [
    "--data-root", path.join(dir, "data"),
    "--exec-root", path.join(dir, "exec"),
    "--pidfile", path.join(dir, "docker.pid"),
    "--host", socket,
    "--iptables=false", "--ip-masq=false", "--bridge=none",
  ], { stdio: ["ignore", openSync(log, "a"), openSync(log, "a")] });
  const env: Env = { ...process.env, DOCKER_HOST: socket, DOCKER_CONFIG: path.join(dir, "client") };
  let exited = false;
  daemon.on("exit", () => (exited = true));
  for (let waited = 0; ; waited += 250) {
    if (exited || waited > 30_000) {
      await stopDaemon(daemon);
      await unmountUnder(dir);
      const tail = (await readFile(log, "utf8").catch(() => "")).trim().split("\n").slice(-5).join("\n");
      await rm(dir, { recursive: true, force: true });
      return { skip: `dockerd did not start${exited ? "" : " within 30 s"}:\n${tail}` };
    }
    if ((await run(dockerClient, ["version"], { env })).code === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  const docker: Docker = {
    bin: dockerClient,
    env,
    dir,
    ok: (args, extra) => ok(dockerClient, args, { env: { ...env, ...extra } }),
    run: (args, extra) => run(dockerClient, args, { env: { ...env, ...extra } }),
    async config(image) {
      const [inspected] = JSON.parse(await docker.ok(["image", "inspect", image])) as { Config: Record<string, unknown> }[];
      return normalizeConfig(inspected!.Config);
    },
    async withRootfs(image, use) {
      const ctr = (await docker.ok(["create", image])).trim();
      const root = await mkdtemp(path.join(dir, "rootfs-"));
      try {
        await docker.ok(["export", "--output", `${root}.tar`, ctr]);
        await ok("tar", ["-x", "-f", `${root}.tar`, "-C", root, "--numeric-owner", "--same-owner", "--same-permissions"]);
        return await use(root);
      } finally {
        await docker.run(["rm", ctr]);
        await rm(root, { recursive: true, force: true });
        await rm(`${root}.tar`, { force: true });
      }
    },
    async stop() {
      await stopDaemon(daemon);
      await unmountUnder(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return docker;
}

/** dockerd leaves its network namespace mounted under the exec root after it exits. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile("/proc/self/mounts", "utf8")).split("\n").map((line) => line.split(" ")[1] ?? "");
  for (const mount of mounts.filter((m) => m.startsWith(`${dir}/`)).reverse()) await run("umount", ["--lazy", mount]);
}

/** Imports the busybox root file system as the base image, as `docker import` of a tar. */
export async function dockerBaseImage(docker: Docker, options: RootfsOptions = {}): Promise<void> {
  const rootfs = path.join(docker.dir, "base-rootfs");
  await mkdir(rootfs);
  await writeRootfs(rootfs, options);
  const tar = `${rootfs}.tar`;
  await ok("tar", ["-c", "-f", tar, "-C", rootfs, "--numeric-owner", "--owner=0", "--group=0", "."]);
  await docker.ok(["import", "--change", `ENV PATH=${basePath}`, "--change", `CMD ${JSON.stringify(baseCmd)}`, tar, baseImage]);
}
