/**
 * IR -> Dockerfile. A pure printer: one handler per layer kind, every value escaped for the place
 * it lands. Two modes: `buildkit` (cache mounts) and `plain` (no BuildKit-only syntax, for
 * Kaniko and the legacy builder).
 */
import { codes, commandsFor, error, type Artifacts, type CacheMount, type Diagnostic, type EnvPart, type EnvValue, type ImagePlan, type Layer, type ParentImage, type SecretMount } from "@dockwright/core";
import { match } from "ts-pattern";

export type DockerfileMode = "buildkit" | "plain";

export type DockerfileOptions = {
  mode?: DockerfileMode;
  /** A `# syntax=` directive, only when asked for: it makes BuildKit pull a frontend image. */
  syntax?: string;
};

/** Prints the image's Dockerfile next to the files it copies from the build context. */
export function emitDockerfile(image: ImagePlan, options: DockerfileOptions = {}): Artifacts {
  if (image.mode !== "build") return { files: [], diagnostics: [] };
  if (image.parent.kind === "dockerfile") {
    // The user's own Dockerfile is built as it is.
    return { files: [{ path: "Dockerfile", contents: image.parent.dockerfile }], diagnostics: [] };
  }
  const caps = { cacheMounts: (options.mode ?? "buildkit") === "buildkit" };
  if (!caps.cacheMounts && image.secrets.length > 0) {
    // Without secret mounts a credential would have to live in ARG or ENV, that is in the image.
    return { files: [], diagnostics: [plainModeSecrets(image)] };
  }
  const lines: string[] = [];
  if (options.syntax !== undefined) lines.push(`# syntax=${oneLine(options.syntax)}`);
  lines.push(`FROM ${fromRef(image.parent)}`);
  for (const layer of image.layers) lines.push(printLayer(layer, caps));
  const { entrypoint, cmd, labels } = image.config;
  if (entrypoint) lines.push(`ENTRYPOINT ${execForm(entrypoint)}`);
  if (cmd) lines.push(`CMD ${execForm(cmd)}`);
  if (labels.length > 0) lines.push(`LABEL ${labels.map(([k, v]) => `${quote(k)}=${quote(v)}`).join(" \\\n      ")}`);
  const text = `${lines.join("\n")}\n`;
  const tooLong = text.split("\n").find((line) => utf8.encode(line).length > maxLineBytes);
  if (tooLong !== undefined) return { files: [], diagnostics: [lineTooLong(image, tooLong)] };
  return { files: [{ path: "Dockerfile", contents: text }, ...image.context.generated], diagnostics: [] };
}

/** Docker's parser reads lines with Go's bufio.Scanner and rejects a longer one ("dockerfile line greater than max allowed size"). */
const maxLineBytes = 65_535;
const utf8 = new TextEncoder();

function lineTooLong(image: ImagePlan, line: string): Diagnostic {
  return error(codes.UNSUPPORTED_BY_BACKEND, `images.${image.key}`,
    `a line of the Dockerfile (${JSON.stringify(line.slice(0, 40))}..., ${utf8.encode(line).length} bytes once quoted) is longer than the ` +
      `${maxLineBytes} bytes Docker reads. Shorten the values it holds, or use the Buildah script or LLB.`);
}

function fromRef(parent: Exclude<ParentImage, { kind: "dockerfile" }>): string {
  return parent.kind === "image" ? parent.ref : parent.tag;
}

function printLayer(layer: Layer, caps: { cacheMounts: boolean }): string {
  return match(layer)
    .with({ kind: "workdir" }, ({ path }) => `WORKDIR ${path}`)
    .with({ kind: "env" }, ({ vars }) => `ENV ${vars.map(([k, v]) => `${k}=${envWord(v)}`).join(" \\\n    ")}`)
    .with({ kind: "apt" }, { kind: "installer" }, { kind: "permissions" }, { kind: "run" }, (l) => run(l, caps))
    .with({ kind: "requirements" }, (l) => `COPY ${l.file} ${l.dest}\n${run(l, caps)}`)
    .with({ kind: "sources" }, ({ chown }) => `COPY ${chown ? `--chown=${chown} ` : ""}. .`)
    .with({ kind: "user" }, ({ name }) => `USER ${name}`)
    .exhaustive();
}

function run(layer: Parameters<typeof commandsFor>[0], caps: { cacheMounts: boolean }): string {
  const spec = commandsFor(layer, caps);
  const mounts = [...spec.cacheMounts.map(cacheMount), ...spec.secrets.map(secretMount)];
  return `RUN ${mounts.map((m) => `${m} `).join("")}${command(spec.shell)}`;
}

/**
 * A command as Docker hands it to `/bin/sh -c`: in shell form when Docker's parser takes it as it
 * is, else in exec form. The parser reads leading `-` words as RUN flags and a leading `[` as exec
 * form, takes a `<<WORD` for a heredoc that swallows the next instructions, and trims whitespace
 * (Go's, which includes U+0085); other parsers (dockerfile-ast, editors) also take a leading `\`
 * for an escape. Only user commands get there: ours hold `<` only quoted.
 */
function command(shell: string): string {
  if (/^[-[\\]|<<|^[\s\u0085]|[\s\u0085]$/.test(shell)) return execForm(["/bin/sh", "-c", shell]);
  return oneLine(shell);
}

function secretMount({ id, target }: SecretMount): string {
  return `--mount=type=secret,id=${id},target=${target},required=true`;
}

function plainModeSecrets(image: ImagePlan): Diagnostic {
  return error(codes.UNSUPPORTED_BY_BACKEND, "secrets",
    `the plain Dockerfile (for Kaniko and the legacy builder) cannot mount the build secrets ${image.secrets.map((s) => JSON.stringify(s.id)).join(", ")} ` +
      "without storing them in the image. Use the BuildKit Dockerfile (--mode buildkit), the Buildah script or LLB, or remove `secrets`.");
}

function cacheMount({ id, target, sharing }: CacheMount): string {
  return `--mount=type=cache,id=${id},target=${target},sharing=${sharing}`;
}

/**
 * An ENV value in double quotes: text escaped as `quote` does, each variable as `${NAME}` (with
 * its `:-`/`:+` word), which Docker expands from the image's environment when the line runs.
 */
function envWord(value: EnvValue): string {
  return `"${value.map((part) => envPart(part, false)).join("")}"`;
}

function envPart(part: EnvPart, inBraces: boolean): string {
  if (typeof part === "string") return oneLine(part).replace(inBraces ? /["$\\'}]/g : /["$\\]/g, "\\$&");
  const word = part.modifier === undefined ? "" : `${part.modifier}${(part.word ?? []).map((p) => envPart(p, true)).join("")}`;
  return `\${${part.variable}${word}}`;
}

/**
 * A double-quoted word for ENV and LABEL: inside double quotes Docker's word processing treats
 * `\` as an escape only before `"`, `$` and `\`, so escaping those three round-trips any string
 * that has no line break (core rejects those).
 */
export function quote(value: string): string {
  return `"${oneLine(value).replace(/["$\\]/g, "\\$&")}"`;
}

/**
 * Exec form is JSON: any string round-trips, line breaks included. Written as Go's encoder writes
 * it, with `<`, `>`, `&`, U+2028 and U+2029 escaped, so that no parser sees a `<<WORD` heredoc in it.
 */
function execForm(argv: string[]): string {
  return JSON.stringify(argv).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Core guarantees single-line values; a break here would start a new instruction. */
function oneLine(text: string): string {
  if (/[\r\n]/.test(text)) throw new Error(`line break in a Dockerfile instruction: ${JSON.stringify(text)}`);
  return text;
}
