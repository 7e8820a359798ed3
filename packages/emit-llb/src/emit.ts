/**
 * The LLB backend: an image plan in, `llb.pb`, `llb.json` and `image-config.json` out.
 */
import { codes, error, parentReference, warning, type Artifacts, type Diagnostic, type EmitOptions, type ImagePlan } from "@dockwright/core";
import { compareCodePoints } from "@dockwright/core/strings";
import { formatJson, printGoJson, type JsonObject } from "./codec.js";
import type { Op, OpMetadata } from "./schema.js";
import { lowerImage, type LlbParent, type State } from "./lower.js";
import { buildOrderNote, frontendNote } from "./notes.js";

/** One op as `buildctl debug dump-llb` prints it (BuildKit v0.11 field names). */
export type DumpLlbOp = { Op: JsonObject; Digest: string; OpMetadata: JsonObject };
/** The ops of a definition, in `def` order. */
export type DumpLlbJson = DumpLlbOp[];

/**
 * Prints an image as LLB. The generated files are part of the output too: the build reads them
 * from the image's folder as the local source `generated`. Options: none yet (`mode` is ignored:
 * LLB always has cache mounts).
 */
export function emitLlb(image: ImagePlan, _options: EmitOptions = {}): Artifacts {
  if (image.mode !== "build") return { files: [], diagnostics: [] };
  const { parent } = image;
  switch (parent.kind) {
    case "dockerfile":
      return { files: [{ path: "BUILD-WITH-FRONTEND.txt", contents: frontendNote(image, parent) }], diagnostics: [] };
    case "image":
      return build(image, parent);
    case "plan": {
      const artifacts = build(image, parent);
      if (artifacts.files.length > 0) artifacts.files.push({ path: "BUILD-ORDER.txt", contents: buildOrderNote(image, parent) });
      return artifacts;
    }
  }
}

function build(image: ImagePlan, parent: LlbParent): Artifacts {
  const { graph, state, diagnostics } = lowerImage(image, parent);
  if (!state.root) {
    return {
      files: [],
      diagnostics: [error(codes.INVALID_CONFIG, `images.${image.key}`,
        "the image is `scratch` with no file system change; raw LLB cannot describe an empty build. Add a layer or use another parent.")],
    };
  }
  const tooLong = [...graph.vertices.flatMap(({ op }) => [...(op.exec?.meta?.args ?? []), ...(op.exec?.meta?.env ?? [])]), ...envStrings(state)]
    .find(tooLongForExec);
  if (tooLong !== undefined) return { files: [], diagnostics: [execStringTooLong(image, tooLong)] };
  const definition = graph.close(state.root);
  return {
    files: [
      { path: "llb.pb", contents: definition },
      { path: "llb.json", contents: printDump(graph.vertices) },
      { path: "image-config.json", contents: formatJson(imageConfig(image, parent, state)) },
      ...image.context.generated,
    ],
    diagnostics: [...diagnostics, ...unknownParent(image, parent)],
  };
}

/** Without the parent's configuration, what the LLB image cannot inherit, said once. */
function unknownParent(image: ImagePlan, parent: LlbParent): Diagnostic[] {
  if (parent.resolved || (parent.kind === "image" && parent.ref === "scratch")) return [];
  return [warning(codes.UNSUPPORTED_BY_BACKEND, `images.${image.key}`,
    `the parent ${JSON.stringify(parentReference(parent))} is not resolved, so raw LLB cannot know its configuration: the RUN steps get BuildKit's default PATH and run as root in /, ` +
      "and image-config.json holds none of the parent's Env, User, WorkingDir, Cmd, Entrypoint or labels. " +
      "`dockwright build` resolves parents in their registry (so does `compile --resolve`); the Dockerfile and the Buildah script inherit them anyway.")];
}

/** Linux passes no longer argument or environment string to a process (MAX_ARG_STRLEN, less its NUL). */
const maxExecString = 131_071;
const utf8 = new TextEncoder();

/** Encodes only a string that might be too long: a UTF-16 unit is at most 3 bytes of UTF-8. */
function tooLongForExec(text: string): boolean {
  return text.length * 3 > maxExecString && utf8.encode(text).length > maxExecString;
}

function envStrings(state: State): string[] {
  return state.env.map(([name, value]) => `${name}=${value}`);
}

function execStringTooLong(image: ImagePlan, text: string): Diagnostic {
  return error(codes.UNSUPPORTED_BY_BACKEND, `images.${image.key}`,
    `${JSON.stringify(text.slice(0, 40))}... (${utf8.encode(text).length} bytes) is a command or an environment variable longer than the ` +
      `${maxExecString} bytes Linux passes to a process, so no build could run it. Shorten the values it holds.`);
}

/**
 * `llb.json`: the ops as `buildctl debug dump-llb` prints them, laid out as JSON.stringify(ops,
 * null, 2) would; an op without metadata prints `{"caps": null}`, as in Go.
 */
export function printDump(ops: readonly { op: Op; digest: string; metadata: OpMetadata | undefined }[]): string {
  if (ops.length === 0) return "[]\n";
  const printed = ops.map(({ op, digest, metadata }) =>
    `  {\n    "Op": ${printGoJson("Op", op, 2)},\n    "Digest": ${JSON.stringify(digest)},\n    "OpMetadata": ${printGoJson("OpMetadata", metadata ?? {}, 2)}\n  }`);
  return `[\n${printed.join(",\n")}\n]\n`;
}

/**
 * The OCI image config BuildKit's exporters take as `containerimage.config` (they add rootfs and
 * history), as the Dockerfile frontend makes it: the parent's Entrypoint, Cmd and labels kept
 * unless the image sets its own (its ENTRYPOINT drops the inherited CMD); Env, User and
 * WorkingDir are where the steps left them.
 */
function imageConfig(image: ImagePlan, parent: LlbParent, state: State): JsonObject {
  const { os, architecture, variant } = image.platform;
  const inherited = parent.resolved?.config;
  const entrypoint = image.config.entrypoint ?? inherited?.entrypoint;
  const cmd = image.config.cmd ?? (image.config.entrypoint ? undefined : inherited?.cmd);
  const labels = [...new Map([...(inherited?.labels ?? []), ...image.config.labels])].sort(([a], [b]) => compareCodePoints(a, b));
  return {
    architecture,
    os,
    ...(variant ? { variant } : {}),
    config: {
      ...(state.user ? { User: state.user } : {}),
      Env: envStrings(state),
      ...(entrypoint ? { Entrypoint: entrypoint } : {}),
      ...(cmd ? { Cmd: cmd } : {}),
      WorkingDir: state.cwd,
      ...(labels.length > 0 ? { Labels: Object.fromEntries(labels) } : {}),
    },
  };
}
