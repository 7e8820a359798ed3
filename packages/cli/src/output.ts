/** Writes a compiled plan: one folder per image with each backend's files, and OUT/plan.json. */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BuildPlan, Compiler, Diagnostic, ImagePlan } from "@dockwright/core";

export type WriteOptions = { backends: readonly string[]; mode: string };

export async function writePlan(compiler: Compiler, plan: BuildPlan, out: string, options: WriteOptions): Promise<{ diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  for (const image of plan.images) {
    const folder = path.join(out, image.key);
    await mkdir(folder, { recursive: true });
    const files = new Map<string, string | Uint8Array>();
    for (const backend of options.backends) {
      const artifacts = compiler.emit(backend, image, { mode: options.mode });
      diagnostics.push(...artifacts.diagnostics);
      for (const file of artifacts.files) files.set(file.path, file.contents);
    }
    files.set("plan.json", json(imageSummary(image)));
    for (const [name, contents] of files) await writeAtomically(path.join(folder, name), contents);
  }
  await writeAtomically(path.join(out, "plan.json"), json(planSummary(plan)));
  return { diagnostics };
}

/** The image as plan.json shows it: the IR, with the context summarized instead of listing every file. */
export function imageSummary(image: ImagePlan): unknown {
  const { key, tag, checksum, parent, platform, sources, skipBuild, layers, config, context } = image;
  return {
    key, tag, checksum, skipBuild, sources, platform,
    // The user Dockerfile's text is the image's Dockerfile; here its path is enough.
    parent: parent.kind === "dockerfile" ? { ...parent, dockerfile: undefined } : parent,
    layers,
    config,
    context: {
      generated: context.generated.map((file) => file.path),
      dockerignore: context.dockerignore,
      ...(context.sources
        ? { sources: { files: context.sources.entries.length, bytes: context.sources.totalSize, digest: context.sources.digest } }
        : {}),
    },
  };
}

export function planSummary(plan: BuildPlan): unknown {
  return {
    pipeline: plan.pipeline,
    buildOrder: plan.images.filter((image) => !image.skipBuild).map((image) => image.key),
    images: plan.images.map((image) => ({
      key: image.key,
      tag: image.tag,
      checksum: image.checksum,
      folder: image.key,
      skipBuild: image.skipBuild,
      sources: image.sources.mode,
      ...(image.parent.kind === "plan" ? { after: image.parent.key } : {}),
    })),
    steps: plan.steps,
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Readers never see half a file. */
async function writeAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}
