/**
 * Reading back an OCI image tarball (BuildKit's `oci` exporter): its config, and its layers
 * unpacked in order into a folder, whiteouts applied, owners and modes kept.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { normalizeConfig, type ConfigView } from "../../e2e/support/images.ts";
import { ok } from "../../e2e/support/run.ts";

type Descriptor = { digest: string; mediaType: string };

export type OciImage = { config: ConfigView; raw: Record<string, unknown>; root: string };

/** Unpacks `tarball` under `dir` (`dir/layout`, `dir/root`). */
export async function unpackOci(tarball: string, dir: string): Promise<OciImage> {
  const layout = path.join(dir, "layout");
  const root = path.join(dir, "root");
  await mkdir(layout, { recursive: true });
  await mkdir(root, { recursive: true });
  await ok("tar", ["-x", "-f", tarball, "-C", layout]);
  const blob = (d: Descriptor) => path.join(layout, "blobs", ...d.digest.split(":"));
  const index = JSON.parse(await readFile(path.join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]!), "utf8")) as { config: Descriptor; layers: Descriptor[] };
  const raw = JSON.parse(await readFile(blob(manifest.config), "utf8")) as Record<string, unknown>;
  for (const layer of manifest.layers) {
    const names = (await ok("tar", ["-t", "-z", "-f", blob(layer)])).split("\n").filter(Boolean);
    for (const name of names) {
      const base = path.posix.basename(name);
      const parent = path.join(root, path.posix.dirname(name));
      if (base === ".wh..wh..opq") {
        for (const entry of await readdir(parent).catch(() => [])) await rm(path.join(parent, entry), { recursive: true, force: true });
      } else if (base.startsWith(".wh.")) await rm(path.join(parent, base.slice(4)), { recursive: true, force: true });
    }
    await ok("tar", ["-x", "-z", "-f", blob(layer), "-C", root, "--numeric-owner", "--same-owner", "--same-permissions", "--exclude=.wh.*"]);
  }
  return { config: normalizeConfig((raw["config"] ?? {}) as Record<string, unknown>), raw, root };
}
