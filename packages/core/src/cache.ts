/**
 * Layer cache keys, as a builder's layer cache sees them: a layer is reused while it and every
 * layer before it are unchanged, including the files it reads. Comparing the keys of two compiles
 * tells which layers would rebuild, and why.
 */
import { canonicalJson, sha256 } from "./checksum.js";
import type { ImagePlan, Layer, LayerKind } from "./ir.js";

export type LayerCacheKey = {
  kind: LayerKind;
  /** Chained over the parent and every earlier layer: equal keys mean a cache hit. */
  key: string;
  /** The layer's own instruction. */
  instruction: string;
  /** What the layer reads from the build context (a generated file, or the sources). */
  inputs: string | null;
};

/** What `explain` compares: an image's parent and layer keys, as plan.json records them. */
export type CacheRecord = { key: string; checksum: string; parent: string; layers: LayerCacheKey[] };

export function cacheRecord(image: ImagePlan): CacheRecord {
  const parent = sha256(canonicalJson(image.parent));
  let chain = parent;
  const layers = image.layers.map((layer): LayerCacheKey => {
    const instruction = sha256(canonicalJson(instructionOf(layer)));
    const inputs = layerInputs(image, layer);
    chain = sha256(`${chain}\n${instruction}\n${inputs ?? ""}`);
    return { kind: layer.kind, key: chain, instruction, inputs };
  });
  return { key: image.key, checksum: image.checksum, parent, layers };
}

/** What the builder sees of a layer: a requirements layer's lines are its file, an input. */
function instructionOf(layer: Layer): unknown {
  if (layer.kind !== "requirements") return layer;
  const { lines: _, ...instruction } = layer;
  return instruction;
}

function layerInputs(image: ImagePlan, layer: Layer): string | null {
  if (layer.kind === "requirements") {
    const file = image.context.generated.find((f) => f.path === layer.file);
    return file ? sha256(file.contents) : null;
  }
  if (layer.kind === "sources") return image.context.sources?.digest ?? null;
  return null;
}

export type Rebuild =
  | { image: string; verdict: "new" }
  | { image: string; verdict: "unchanged" }
  | { image: string; verdict: "rebuild"; from: number; kind: LayerKind | "parent"; reason: string; layers: number };

/** Which layers of `after` rebuild compared with `before` (a previous compile of the same image key). */
export function explainRebuild(before: CacheRecord | undefined, after: CacheRecord): Rebuild {
  const image = after.key;
  if (!before) return { image, verdict: "new" };
  if (before.parent !== after.parent) {
    return { image, verdict: "rebuild", from: 0, kind: "parent", reason: "the parent image changed", layers: after.layers.length };
  }
  const index = after.layers.findIndex((layer, i) => layer.key !== before.layers[i]?.key);
  if (index === -1) {
    return before.layers.length === after.layers.length && before.checksum === after.checksum
      ? { image, verdict: "unchanged" }
      : { image, verdict: "rebuild", from: after.layers.length, kind: "parent", reason: "its settings or configuration changed, but every layer is reused", layers: 0 };
  }
  const was = before.layers[index];
  const now = after.layers[index]!;
  const reason =
    !was ? "a layer was added" :
    was.kind !== now.kind ? `a ${now.kind} layer replaced a ${was.kind} layer` :
    was.instruction !== now.instruction ? `its instruction changed` :
    now.kind === "sources" ? "the source files changed" :
    "the file it installs changed";
  return { image, verdict: "rebuild", from: index, kind: now.kind, reason, layers: after.layers.length - index };
}
