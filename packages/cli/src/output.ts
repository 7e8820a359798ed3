/** Writes a compiled plan: one folder per image with each backend's files, and OUT/plan.json. */
import path from "node:path";
import { cacheRecord, codes, contentTag, error, type Artifact, type BuildPlan, type Compiler, type ContextEntry, type Diagnostic, type ImagePlan } from "@dockwright/core";
import { cacheFolder } from "./context.js";
import { folderIn, OutputError, prepareOutFolder, writeAtomically } from "./out-folder.js";

export type WriteOptions = {
  backends: readonly string[];
  mode: string;
  /** Checksums built before (the build index): those images are marked reusable. */
  built?: ReadonlySet<string>;
};

/** One image's folder as written: its files per backend. */
export type WrittenImage = { key: string; folder: string; files: Record<string, Artifact[]>; diagnostics: Diagnostic[] };

/** What writePlan wrote: each image's files per backend, in plan order. */
export type Written = { diagnostics: Diagnostic[]; images: WrittenImage[] };

/** Where an image is in its registry after a build: the manifest digest and the references that name it. */
export type Shipped = { digest: string; references: string[] };

/**
 * Writes every image's folder, OUT/plan.json and the record for `explain`. A file that cannot be
 * written (a link or a folder in its place) is an error diagnostic naming it. A plan without
 * images (a local orchestrator) still writes plan.json.
 */
export async function writePlan(compiler: Compiler, plan: BuildPlan, out: string, options: WriteOptions): Promise<Written> {
  const images: WrittenImage[] = [];
  const unusable = await prepareOutFolder(out);
  if (unusable) return { diagnostics: [error(codes.INVALID_PATH, out, unusable)], images };
  try {
    for (const image of plan.images) images.push(await writeImage(compiler, image, out, options));
    await writePlanFile(plan, out, options.built ?? new Set());
    // What the next `dockwright explain` compares against.
    await writeAtomically(lastCompileFile(out), json(plan.images.map(cacheRecord)));
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    const diagnostics = images.flatMap((image) => image.diagnostics);
    return { diagnostics: [...diagnostics, error(codes.INVALID_PATH, out, `the output cannot be written: ${e.message}. Remove what stands there, or choose another folder with --out.`)], images };
  }
  return { diagnostics: images.flatMap((image) => image.diagnostics), images };
}

/** Writes (or writes again, once its parent is built) one image's folder: each backend's files and its plan.json. */
export async function writeImage(compiler: Compiler, image: ImagePlan, out: string, options: WriteOptions): Promise<WrittenImage> {
  const diagnostics: Diagnostic[] = [];
  const files = new Map<string, string | Uint8Array>();
  const byBackend: Record<string, Artifact[]> = {};
  for (const backend of options.backends) {
    const artifacts = compiler.emit(backend, image, { mode: options.mode });
    diagnostics.push(...artifacts.diagnostics);
    for (const file of artifacts.files) files.set(file.path, file.contents);
    byBackend[backend] = artifacts.files;
  }
  files.set("plan.json", json(imageSummary(image)));
  const folder = await folderIn(out, image.key);
  for (const [name, contents] of files) await writeAtomically(path.join(folder, name), contents);
  return { key: image.key, folder, files: byBackend, diagnostics };
}

/** OUT/plan.json: the images in build order, the step -> image map, and after a build where each image is in its registry. */
export async function writePlanFile(plan: BuildPlan, out: string, built: ReadonlySet<string>, shipped: ReadonlyMap<string, Shipped> = new Map()): Promise<void> {
  await writeAtomically(path.join(out, "plan.json"), json(planSummary(plan, built, shipped)));
}

/** The image as plan.json shows it: the IR, with the context summarized instead of listing every file. */
function imageSummary(image: ImagePlan): unknown {
  const { key, tag, checksum, mode, parent, platform, sources, reuse, secrets, buildOptions, layers, config, context } = image;
  return {
    key, tag, checksum, mode, reuse, sources, platform, secrets, buildOptions,
    // The user Dockerfile's text is the image's Dockerfile; here its path is enough.
    parent: parent.kind === "dockerfile" ? { ...parent, dockerfile: undefined } : parent,
    layers,
    config,
    context: {
      generated: context.generated.map((file) => file.path),
      dockerignore: context.dockerignore,
      ...(context.sources
        ? { sources: { ...countEntries(context.sources.entries), bytes: context.sources.totalSize, digest: context.sources.digest } }
        : {}),
    },
  };
}

/** Files (and links) and folders of a snapshot. */
function countEntries(entries: readonly ContextEntry[]): { files: number; dirs: number } {
  const dirs = entries.filter((e) => e.type === "dir").length;
  return { files: entries.length - dirs, dirs };
}

/** An image whose checksum was built before is reused, unless its settings prevent it. */
export function isReusable(image: ImagePlan, built: ReadonlySet<string>): boolean {
  return image.reuse && image.mode === "build" && built.has(image.checksum);
}

export function lastCompileFile(out: string): string {
  return path.join(cacheFolder(out), "last-compile.json");
}

function planSummary(plan: BuildPlan, built: ReadonlySet<string>, shipped: ReadonlyMap<string, Shipped>): unknown {
  return {
    pipeline: plan.pipeline,
    release: plan.release,
    ...(plan.registry !== undefined ? { registry: plan.registry } : {}),
    buildOrder: plan.images.filter((image) => image.mode !== "use-parent").map((image) => image.key),
    images: plan.images.map((image) => ({
      key: image.key,
      tag: image.tag,
      checksum: image.checksum,
      folder: image.key,
      mode: image.mode,
      reusable: isReusable(image, built),
      sources: image.sources,
      ...(image.mode === "build" ? { contentTag: contentTag(image) } : {}),
      ...(image.parent.kind === "plan" ? { after: image.parent.key } : {}),
      ...(image.parent.kind === "image" && image.parent.resolved ? { parent: { ref: image.parent.ref, digest: image.parent.resolved.digest } } : {}),
      ...(shipped.has(image.key) ? { pushed: shipped.get(image.key) } : {}),
    })),
    steps: plan.steps,
    // The runtime reads where downloaded code comes from here: the repository's commit, or the archive.
    code: plan.code,
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
