/**
 * The end-to-end fixtures for BuildKit: each compiled with its parent image pointed at a test
 * registry's copy of the base image (a daemon pulls `docker-image://` parents from a registry),
 * and built through the native client or through buildctl into OCI tarballs read back as views.
 */
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ImagePlan } from "@dockwright/core";
import { type BuildEvent, type BuildRequest, type BuildkitClient, type SecretSource } from "../../../packages/buildkit/src/index.ts";
import { buildWithBuildctl } from "../../../packages/cli/src/builders/buildctl.ts";
import { fileTree, textFiles, type ConfigView, type TreeEntry } from "../../e2e/support/images.ts";
import { fixturesDir, prepareFixture, secretEnv, type Fixture } from "../../e2e/support/fixtures.ts";
import { toolPath } from "../../support/tools.ts";
import { unpackOci } from "./oci.ts";

/**
 * Compiles a copy of fixture `name` under `work`, with its parent image replaced by `parent` and its
 * configuration edited by `edit`.
 */
export async function registryFixture(name: string, work: string, parent: string, edit: (config: string) => string = (config) => config): Promise<Fixture & { root: string }> {
  const copy = path.join(work, "fixture");
  await mkdir(work, { recursive: true });
  await cp(path.join(fixturesDir, name), copy, { recursive: true });
  // The configuration stays beside its root: its paths are relative to its own folder.
  const root = path.join(copy, "root");
  await mkdir(root, { recursive: true });
  const config = path.join(copy, "run.yaml");
  await writeFile(config, edit((await readFile(config, "utf8")).replaceAll("localhost/dockwright-test-base:latest", parent)));
  return prepareFixture(name, work, { root, config });
}

/** The build secrets of the image, as the native client takes them; files are relative to `base`, the configuration's folder. */
export function secretSources(image: ImagePlan, base: string): Record<string, SecretSource> {
  return Object.fromEntries(image.secrets.map(({ id, source }) => [id, "env" in source ? { env: source.env } : { file: path.resolve(base, source.file) }]));
}

/** The native client's request for the fixture's llb.pb, exported as an OCI tarball. */
export async function nativeRequest(fixture: Fixture, dest: string): Promise<BuildRequest> {
  return {
    definition: await readFile(path.join(fixture.folder, "llb.pb")),
    imageConfig: await readFile(path.join(fixture.folder, "image-config.json"), "utf8"),
    locals: { context: fixture.context, generated: fixture.folder },
    exports: [{ type: "oci", dest }],
    secrets: secretSources(fixture.image, path.dirname(fixture.config)),
  };
}

export async function buildNative(client: BuildkitClient, fixture: Fixture, dest: string, events: BuildEvent[] = []): Promise<void> {
  await client.solve(await nativeRequest(fixture, dest), { onEvent: (e) => void events.push(e) });
}

/** The same build with `buildctl` (the CLI's buildctl builder); throws with its output when it fails. */
export async function buildWithBuildctlTool(address: string, fixture: Fixture, dest: string): Promise<void> {
  let output = "";
  try {
    await buildWithBuildctl(toolPath("buildctl")!, {
      folder: fixture.folder,
      locals: { context: fixture.context, generated: fixture.folder },
      output: { type: "oci", dest },
      secrets: fixture.image.secrets,
      addr: address,
    }, { cwd: path.dirname(fixture.config) /* where secret files are relative to */, env: { ...process.env, ...secretEnv }, log: (t) => (output += t) }, `build ${fixture.image.tag}`);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${output.slice(-4000)}`);
  }
}

/** What two builds of one fixture must share: config, the whole file tree, the installers' records. */
export type BuiltView = { config: ConfigView; tree: TreeEntry[]; records: Record<string, string> };

export async function viewOci(tarball: string, dir: string): Promise<BuiltView & { root: string }> {
  const image = await unpackOci(tarball, dir);
  return { config: image.config, tree: await fileTree(image.root), records: await textFiles(path.join(image.root, "var/log/dockwright")), root: image.root };
}
