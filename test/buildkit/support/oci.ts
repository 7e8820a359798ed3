/**
 * Reading back an image tarball: an OCI layout (BuildKit's `oci` exporter) or a Docker archive
 * (`docker save`); its config, and its layers unpacked in order into a folder, whiteouts applied,
 * owners and modes kept.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { normalizeConfig, type ConfigView } from "../../e2e/support/images.ts";
import { ok } from "../../e2e/support/run.ts";

type Descriptor = { digest: string; mediaType: string };

export type OciImage = { config: ConfigView; raw: Record<string, unknown>; root: string };

/** Unpacks the OCI layout `tarball` under `dir` (`dir/layout`, `dir/root`). */
export async function unpackOci(tarball: string, dir: string): Promise<OciImage> {
  const layout = await extract(tarball, path.join(dir, "layout"));
  const blob = (d: Descriptor) => path.join(layout, "blobs", ...d.digest.split(":"));
  const index = JSON.parse(await readFile(path.join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]!), "utf8")) as { config: Descriptor; layers: Descriptor[] };
  return unpackLayers(JSON.parse(await readFile(blob(manifest.config), "utf8")), manifest.layers.map(blob), dir);
}

/** Unpacks the Docker archive `tarball` (`docker save` of one image) under `dir`. */
export async function unpackDockerArchive(tarball: string, dir: string): Promise<OciImage> {
  const archive = await extract(tarball, path.join(dir, "archive"));
  const [manifest] = JSON.parse(await readFile(path.join(archive, "manifest.json"), "utf8")) as { Config: string; Layers: string[] }[];
  const config = JSON.parse(await readFile(path.join(archive, manifest!.Config), "utf8"));
  return unpackLayers(config, manifest!.Layers.map((layer) => path.join(archive, layer)), dir);
}

async function extract(tarball: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await ok("tar", ["-x", "-f", tarball, "-C", dir]);
  return dir;
}

/** Layers (tar, gzip or not: tar finds out) applied in order to `dir/root`. */
async function unpackLayers(raw: Record<string, unknown>, layers: string[], dir: string): Promise<OciImage> {
  const root = path.join(dir, "root");
  await mkdir(root, { recursive: true });
  for (const layer of layers) {
    const names = (await ok("tar", ["-t", "-f", layer])).split("\n").filter(Boolean);
    for (const name of names) {
      const base = path.posix.basename(name);
      const parent = path.join(root, path.posix.dirname(name));
      if (base === ".wh..wh..opq") {
        for (const entry of await readdir(parent).catch(() => [])) await rm(path.join(parent, entry), { recursive: true, force: true });
      } else if (base.startsWith(".wh.")) await rm(path.join(parent, base.slice(4)), { recursive: true, force: true });
    }
    await ok("tar", ["-x", "-f", layer, "-C", root, "--numeric-owner", "--same-owner", "--same-permissions", "--exclude=.wh.*"]);
  }
  return { config: normalizeConfig((raw["config"] ?? {}) as Record<string, unknown>), raw, root };
}
