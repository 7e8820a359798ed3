import { readFile } from "node:fs/promises";
import { cacheRecord, contentTag, explainImage, explainRebuild, hasErrors, type CacheRecord, type ImagePlan, type Rebuild } from "@dockwright/core";
import { RegistryError, type RegistryClient } from "@dockwright/registry";
import { parseFlags } from "../args.js";
import { indexFile, readBuildIndex } from "../build-index.js";
import { exitCodes, type Command } from "../io.js";
import { isReusable, lastCompileFile } from "../output.js";
import { compileConfig } from "../pipeline.js";
import { heldDigest, openRegistries, registryFlags, registryHelp } from "../registry.js";
import { reporter } from "../report.js";
import { checkCompileFlags, compileFlags, compileOptions } from "./compile.js";

const help = `Usage: dockwright explain CONFIG [options]

Compiles CONFIG in memory, its parent images resolved as \`dockwright build\` resolves
them, and tells for each image whether the registry holds it (its content tag,
REPOSITORY:dockwright-<checksum>, so \`dockwright build\` would reuse it), whether it was
built here before (the build index in OUT), which layers would rebuild compared with the
last \`dockwright compile\` into OUT and why, where every requirement comes from, and which
layers rebuild when each input changes. Writes nothing but caches.

Options: --root, --out, --pipeline, --python, --platform, --zenml-version, --zenml-store
as for compile;
${registryHelp}
  --no-resolve           do not resolve parent images (the checksums then differ from a build's)
  --json                 one JSON object per line on standard output (see the README).
`;

export const explainCommand: Command = async (args, io) => {
  const out = reporter(io, "explain", args.includes("--json"));
  const parsed = parseFlags(args, { ...compileFlags, ...registryFlags, "no-resolve": { type: "boolean" }, json: { type: "boolean" } }, help, io, out.json ? (message) => out.fail(message) : undefined);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return out.fail("explain takes one CONFIG file. Run `dockwright explain --help`.");
  const flagProblem = checkCompileFlags(parsed.values);
  if (flagProblem) return out.fail(flagProblem);
  const { values } = parsed;
  const registries = openRegistries(values["insecure-registry"] ?? [], io.env);
  try {
    // Explaining uploads nothing.
    const { codeUpload: _, ...options } = compileOptions(parsed.positionals[0]!, values, io.cwd, io.env);
    const result = await compileConfig({
      ...options,
      ...(values.registry !== undefined ? { registry: values.registry } : {}),
      ...(values["no-resolve"] ? {} : { resolveParent: registries.resolveParent }),
    });
    if ("message" in result) return out.fail(result.message);
    out.diagnostics(result.diagnostics);
    if (!result.plan || hasErrors(result.diagnostics)) return out.fail("the configuration is invalid (see above).");

    const previous = await readLastCompile(lastCompileFile(options.out));
    const built = new Set((await readBuildIndex(indexFile(options.out))).keys());
    for (const image of result.plan.images) {
      const rebuild = explainRebuild(previous.get(image.key), cacheRecord(image));
      const reusable = isReusable(image, built);
      const registry = result.plan.registry === undefined || image.mode !== "build" ? undefined : await held(registries.client, image);
      const reuse = image.mode === "use-parent" ? "used as is (skip_build)"
        : image.mode === "retag-parent" ? "the parent, tagged as this image (nothing to install)"
        : registry?.digest !== undefined ? `in the registry: ${registry.reference}@${registry.digest} (a build reuses it)`
        : [registry ? `not in the registry (no ${registry.reference})` : "no registry (the stack names no container_registry, and no --registry is given)",
          reusable ? "built here before with this checksum" : "not built here before"].join("; ");
      const requirements = image.layers.flatMap((layer) => (layer.kind === "requirements" ? [{ file: layer.file, origin: layer.origin, lines: layer.lines }] : []));
      out.result(`${image.tag} [${image.key}]: ${reuse}\n  ${describe(rebuild, image.layers.length)}\n${explainImage(image)}\n`, {
        event: "explain", key: image.key, tag: image.tag, checksum: image.checksum, mode: image.mode, reusable, rebuild, requirements,
        ...(registry ? { registry: { holds: registry.digest !== undefined, reference: registry.reference, ...(registry.digest ? { digest: registry.digest } : {}) } } : {}),
      });
    }
    return out.done(exitCodes.ok, { images: result.plan.images.length });
  } catch (e) {
    if (e instanceof RegistryError) return out.fail(e.message);
    throw e;
  } finally {
    await registries.close();
  }
};

/** Whether the registry holds the image's content tag, and at which digest. */
async function held(registry: RegistryClient, image: ImagePlan): Promise<{ reference: string; digest?: string }> {
  const reference = contentTag(image);
  const digest = await heldDigest(registry, reference);
  return digest === undefined ? { reference } : { reference, digest };
}

function describe(rebuild: Rebuild, layers: number): string {
  switch (rebuild.verdict) {
    case "new":
      return "no earlier compile of this image to compare with: every layer builds";
    case "unchanged":
      return "unchanged since the last compile: every layer is cached";
    case "rebuild":
      return rebuild.layers === 0
        ? rebuild.reason
        : `rebuilds ${rebuild.layers} of ${layers} layers, from layer ${rebuild.from + 1} (${rebuild.kind}): ${rebuild.reason}`;
  }
}

async function readLastCompile(file: string): Promise<Map<string, CacheRecord>> {
  try {
    const records = JSON.parse(await readFile(file, "utf8")) as CacheRecord[];
    return new Map(records.map((r) => [r.key, r]));
  } catch {
    return new Map(); // No earlier compile (or an unreadable one): everything is new.
  }
}
