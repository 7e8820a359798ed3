/**
 * Buildah with storage of its own in a temporary folder (vfs, chroot isolation, as inside a
 * container), so the tests neither depend on nor change the machine's images.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { baseCmd, baseImage, basePath, writeRootfs, type StandIns } from "./base-image.ts";
import { normalizeConfig, type ConfigView } from "./images.ts";
import { toolPath } from "../../support/tools.ts";
import { ok, run, type Env, type Result } from "./run.ts";

export type Buildah = {
  /** The environment that points buildah (and build.sh) at this storage. */
  env: Env;
  dir: string;
  /** Runs buildah; throws when it fails. */
  ok(args: readonly string[], cwd?: string, env?: Env): Promise<string>;
  run(args: readonly string[], cwd?: string): Promise<Result>;
  /** Image config as `buildah inspect` reads it back. */
  config(image: string): Promise<ConfigView>;
  /** Mounts a working container of the image, calls `use` with its root, removes the container. */
  withRootfs<T>(image: string, use: (root: string) => Promise<T>): Promise<T>;
  /** Removes every container and image, then the storage. */
  destroy(): Promise<void>;
};

export async function createBuildah(): Promise<Buildah> {
  const bin = toolPath("buildah")!;
  const dir = await mkdtemp(path.join(tmpdir(), "dockwright-e2e-buildah-"));
  await mkdir(path.join(dir, "tmp"));
  const conf = path.join(dir, "storage.conf");
  await writeFile(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`);
  const env: Env = {
    ...process.env,
    CONTAINERS_STORAGE_CONF: conf,
    STORAGE_DRIVER: "vfs",
    BUILDAH_ISOLATION: "chroot",
    // Buildah keeps cache mounts and intermediate files under TMPDIR.
    TMPDIR: path.join(dir, "tmp"),
    BUILDAH_LAYERS: undefined,
  };
  const buildah: Buildah = {
    env,
    dir,
    ok: (args, cwd, extra) => ok(bin, args, { env: { ...env, ...extra }, ...(cwd ? { cwd } : {}) }),
    run: (args, cwd) => run(bin, args, { env, ...(cwd ? { cwd } : {}) }),
    async config(image) {
      const inspected = JSON.parse(await buildah.ok(["inspect", "--type", "image", image])) as { OCIv1: { config?: Record<string, unknown> } };
      return normalizeConfig(inspected.OCIv1.config ?? {});
    },
    async withRootfs(image, use) {
      const ctr = (await buildah.ok(["from", "--pull-never", image])).trim();
      try {
        return await use((await buildah.ok(["mount", ctr])).trim());
      } finally {
        await buildah.run(["rm", ctr]);
      }
    },
    async destroy() {
      await buildah.run(["rm", "--all"]);
      await buildah.run(["rmi", "--all", "--force"]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return buildah;
}

/** Commits the test base image from the busybox root file system. */
export async function buildahBaseImage(buildah: Buildah, standIns: StandIns = {}): Promise<void> {
  const rootfs = path.join(buildah.dir, "rootfs");
  await writeRootfs(rootfs, standIns);
  const ctr = (await buildah.ok(["from", "scratch"])).trim();
  await buildah.ok(["copy", "--quiet", ctr, rootfs, "/"]);
  await buildah.ok(["config", "--env", `PATH=${basePath}`, "--cmd", JSON.stringify(baseCmd), ctr]);
  await buildah.ok(["commit", "--quiet", "--rm", ctr, baseImage]);
}

/**
 * Pushes the test base image (busybox and the stand-in installers) to a test registry over plain
 * HTTP, as `HOST/dockwright-test-base:latest`, from a Buildah storage of its own that is removed
 * afterwards. Returns the reference, for parents that a daemon pulls (BuildKit's
 * `docker-image://` sources). Under the heavy-job lock, like any build.
 */
export async function pushBaseImage(registryHost: string, standIns: StandIns = {}): Promise<string> {
  const buildah = await createBuildah();
  try {
    await buildahBaseImage(buildah, standIns);
    const ref = `${registryHost}/dockwright-test-base:latest`;
    await buildah.ok(["push", "--quiet", "--tls-verify=false", baseImage, `docker://${ref}`]);
    return ref;
  } finally {
    await buildah.destroy();
  }
}
