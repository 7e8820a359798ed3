/**
 * One image of a `dockwright build`, from its plan to its registry. The registry is the truth:
 * before building, the image's content tag (`contentTag`: its repository, tagged by its checksum)
 * is looked up there, then in the builder's own store; if either holds it, that image is reused
 * and the scope's tag pointed at it. Otherwise the image is built, tagged by its checksum too,
 * and with `--push` pushed under both tags. The build index in OUT only records what happened.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { contentTag, parentReference, type BuildPlan, type Compiler, type ImagePlan } from "@dockwright/core";
import { loadDockerignore, stageContext, walkContext } from "@dockwright/context";
import { RegistryError, registryCodes, type RegistryClient } from "@dockwright/registry";
import { indexFile, recordBuild, type BuildRecord } from "./build-index.js";
import type { Builder, ToolContext } from "./builders/builder.js";
import { writeImage, type Shipped, type WriteOptions } from "./output.js";
import { heldDigest, parentConfig } from "./registry.js";

/** What a build did with one image. */
export type Outcome = {
  action: "built" | "reused" | "skipped" | "tagged";
  /** Reused from the registry's content tag, or from the builder's store on this machine. */
  from?: "registry" | "local";
  /** Where the image is in its registry, when it is in one. */
  shipped?: Shipped;
};

/** Everything one run of the build shares. */
export type Run = {
  compiler: Compiler;
  plan: BuildPlan;
  builder: Builder;
  registry: RegistryClient;
  /** `--push`: images go to the plan's registry. */
  push: boolean;
  /** `--no-cache`: nothing is reused, every image is built. */
  noCache: boolean;
  out: string;
  root: string;
  /** The configuration's folder: the plan's relative paths start there. */
  base: string;
  write: WriteOptions;
  /** The build index as read at the start, with this run's records: what `recordBuild` need not write again. */
  index: Map<string, BuildRecord>;
  /** The outcome of each image done so far, for the images built on it. */
  outcomes: Map<string, Outcome>;
  /** Says a warning that concerns the whole run (the reporter's: a line, or a `--json` event). */
  warn: (message: string) => void;
  /** Called as an image starts building (not when it is reused), for a progress line. */
  onBuild?: (image: ImagePlan) => void;
  /** Set when a lookup without a push found the registry out of reach: not asked again. */
  registryOutOfReach?: boolean;
};

export async function shipImage(run: Run, image: ImagePlan, context: ToolContext): Promise<Outcome> {
  if (image.mode === "use-parent") return { action: "skipped" };
  if (image.mode === "retag-parent") return retagParent(run, image, context);
  const planned = await pinPlanParent(run, image);
  // BuildKit pulls the parent of an image from its registry: a parent of another image goes there first.
  const push = run.push || (!run.builder.store && run.plan.images.some((other) => other.parent.kind === "plan" && other.parent.key === image.key));
  const found = planned.reuse && !run.noCache ? await lookUp(run, planned, push, context) : undefined;
  const outcome = found ?? (await build(run, planned, push, context));
  await recordBuild(indexFile(run.out), { checksum: image.checksum, tag: image.tag, builder: run.builder.name, ...(outcome.shipped ? { digest: outcome.shipped.digest } : {}) }, run.index);
  return outcome;
}

/** An image built on another image of the plan starts from exactly what that build produced, once it is in a registry. */
async function pinPlanParent(run: Run, image: ImagePlan): Promise<ImagePlan> {
  const { parent } = image;
  const digest = parent.kind === "plan" ? run.outcomes.get(parent.key)?.shipped?.digest : undefined;
  if (parent.kind !== "plan" || digest === undefined) return image;
  const { config } = await run.registry.imageConfig(atDigest(parent.tag, digest), image.platform);
  const pinned: ImagePlan = { ...image, parent: { ...parent, resolved: { digest, config: parentConfig(config.config ?? {}) } } };
  await writeImage(run.compiler, pinned, run.out, run.write);
  return pinned;
}

/** The image, if the registry's content tag or the builder's store already holds it. */
async function lookUp(run: Run, image: ImagePlan, push: boolean, context: ToolContext): Promise<Outcome | undefined> {
  const tag = contentTag(image);
  if (run.plan.registry !== undefined && !run.registryOutOfReach) {
    const digest = await askRegistry(run, tag, push);
    if (digest !== undefined) {
      const references = [atDigest(tag, digest)];
      // Without --push nothing is written to the registry.
      if (run.push) references.unshift((await run.registry.tag(atDigest(tag, digest), image.tag)).reference);
      return { action: "reused", from: "registry", shipped: { digest, references } };
    }
  }
  const store = run.builder.store;
  if (!store || !(await store.has(tag, context))) return undefined;
  await store.tag(tag, image.tag, context);
  return { action: "reused", from: "local", ...(push ? { shipped: await pushTags(run, image, await store.push(image.tag, context)) } : {}) };
}

/**
 * The digest the registry holds for `tag`. A build that pushes nothing only asks the registry, so
 * one that is out of reach (down, or not this machine's to reach) is said once and then left out:
 * the images are looked up in the builder's store and built.
 */
async function askRegistry(run: Run, tag: string, push: boolean): Promise<string | undefined> {
  try {
    return await heldDigest(run.registry, tag);
  } catch (e) {
    const outOfReach = e instanceof RegistryError && (e.code === registryCodes.UNREACHABLE || e.code === registryCodes.UNAVAILABLE);
    if (push || !outOfReach) throw e;
    if (!run.registryOutOfReach) {
      run.registryOutOfReach = true;
      run.warn(`${e.message}. Without --push the registry is only asked whether it holds an image, so the build goes on without it: ${run.builder.store ? `images are reused from ${run.builder.name}'s store or built` : "every image is built"}.`);
    }
    return undefined;
  }
}

async function build(run: Run, image: ImagePlan, push: boolean, context: ToolContext): Promise<Outcome> {
  run.onBuild?.(image);
  const staging = await mkdtemp(path.join(tmpdir(), "dockwright-build-"));
  try {
    const stagedContext = path.join(staging, "context");
    await stage(image, run.root, run.base, stagedContext);
    const built = await run.builder.build({ ...context, image, folder: path.join(run.out, image.key), context: stagedContext, staging, base: run.base, push });
    await run.builder.store?.tag(image.tag, contentTag(image), context);
    return { action: "built", ...(push && built.digest ? { shipped: await pushTags(run, image, built.digest) } : {}) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The scope's tag was pushed with `digest`; the content tag goes beside it, in the registry. */
async function pushTags(run: Run, image: ImagePlan, digest: string): Promise<Shipped> {
  const tagged = await run.registry.tag(atDigest(image.tag, digest), contentTag(image));
  return { digest, references: [atDigest(image.tag, digest), tagged.reference] };
}

/** ZenML's "nothing to install": the parent is the image, under the image's name; with --push, copied in the registry. */
async function retagParent(run: Run, image: ImagePlan, context: ToolContext): Promise<Outcome> {
  const parent = image.parent.kind === "dockerfile" ? image.tag : parentReference(image.parent);
  if (run.push) {
    const tagged = await run.registry.tag(parent, image.tag);
    return { action: "tagged", shipped: { digest: tagged.digest, references: [tagged.reference] } };
  }
  const store = run.builder.store;
  if (!store) {
    run.warn(`${run.builder.name} cannot tag an image on this machine; tag ${parent} as ${image.tag} with your registry tools, or build with --push.`);
  } else {
    await store.pull(parent, context);
    await store.tag(parent, image.tag, context);
  }
  return { action: "tagged" };
}

/** `ref` pinned: `registry/repository:tag@digest`, which Docker and the registry client read as the digest. */
function atDigest(ref: string, digest: string): string {
  return `${ref.split("@", 1)[0]}@${digest}`;
}

/** The image's build context as a folder: the plan's sources and generated files, or a user Dockerfile's context. */
async function stage(image: ImagePlan, root: string, base: string, dest: string): Promise<void> {
  if (image.parent.kind !== "dockerfile") {
    await stageContext(root, image.context.sources ?? { entries: [] }, image.context.generated, dest, { writable: image.context.writable });
    return;
  }
  const { contextRoot, dockerignore } = image.parent;
  if (contextRoot === undefined) {
    // The reference system's context for a user Dockerfile without a context root: nothing but the Dockerfile.
    await mkdir(dest);
    return;
  }
  const dir = path.resolve(base, contextRoot);
  const patterns = (await loadDockerignore(dir, dockerignore === undefined ? undefined : path.resolve(base, dockerignore))).patterns;
  await stageContext(dir, await walkContext(dir, { patterns }), [], dest);
}
