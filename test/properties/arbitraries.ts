/**
 * Generators of hostile settings: every field that reaches an output gets, besides plausible
 * values, strings built from the pieces that break naive quoting in a Dockerfile, a shell script
 * or a protobuf, plus arbitrary code points and very long values.
 */
import fc from "fast-check";

/** Pieces that mean something to Docker's parser, a POSIX shell, buildah, YAML or a terminal. */
const pieces = [
  // Quoting and expansion.
  "'", '"', "\\", "$", "$(touch /tmp/pwned)", "`id`", "${HOME}", "$HOME", "\\$", "$$", "${DOCKWRIGHT_DOLLAR}", "%s", "\t",
  // Shell control.
  ";", "&&", "||", "|", "&", ">", "<", "<<EOF", "<<-EOF", "<<'EOF'", "EOF", "#", " # comment",
  // Docker parser: flags, exec form, heredocs, continuation.
  "--mount=type=bind,source=/,target=/host", "--network=host", '["x"]', "[", "]", "RUN id", "FROM scratch", "USER root", "\\ ",
  // Separators of mount options, CSV and env pairs.
  "=", ",", ":", "@", "/", "..", ".", "-", "--", "*", "?", "~", "!", "{", "}",
  // Unicode: line separators, NEL, no-break space, BOM, astral, combining, right-to-left.
  "\u2028", "\u2029", "\u0085", "\u00a0", "\ufeff", "😀", "e\u0301", "\u202e", "\u05d0\u05d1", "中文",
  // Plain text, so that pieces also land inside words.
  " ", "a", "A_1", "x", "0",
];

/**
 * Every line break: Unicode's mandatory breaks and what Python's `str.splitlines()` (pip's reading
 * of a requirements file) breaks at besides.
 */
export const lineBreaks: readonly string[] = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"];

/** The line-separator class: every line break and every C0 control, DEL among them. */
const lineSeparators = [...lineBreaks, ...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)), "\x7f"];

/** Pieces core rejects in most values: line breaks and other controls, unpaired surrogates. */
const breaking = [...lineSeparators, "\u001b[31m", "\\\n", "\ud800", "\udc00"];

const joined = fc
  .array(fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...pieces) }, { weight: 1, arbitrary: fc.constantFrom(...breaking) }), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(""));

/** Long values: a piece repeated to 1,000-20,000 characters (the resource tests go to megabytes). */
const long = fc
  .tuple(fc.constantFrom("a", "$", "'", "\\", "😀", "x y", "\u2028"), fc.integer({ min: 1_000, max: 20_000 }))
  .map(([piece, length]) => piece.repeat(Math.ceil(length / piece.length)));

/** Any string an attacker might put in a setting. */
export const hostile: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: joined },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: long },
);

/** Mostly `valid`, sometimes hostile: each field is rejected rarely enough that many cases compile. */
function mostly<T>(valid: fc.Arbitrary<T>, hostileWeight = 1, validWeight = 20): fc.Arbitrary<T | string> {
  return fc.oneof({ weight: validWeight, arbitrary: valid }, { weight: hostileWeight, arbitrary: hostile });
}

/** Values where core accepts anything on one line: the hostile cases are the point. */
const freeText = fc.oneof({ weight: 3, arbitrary: hostile }, { weight: 1, arbitrary: fc.constantFrom("1", "", "value with spaces") });
/**
 * Mostly the same without the control characters core rejects (tab stays), so that cases compile
 * more often; sometimes with them.
 */
const oneLine = fc.oneof(
  { weight: 10, arbitrary: freeText.map((value) => value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]|\p{Cs}/gu, "")) },
  { weight: 1, arbitrary: freeText },
);

const envName = fc.oneof(
  { weight: 16, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/) },
  // Names with a meaning to JavaScript objects, to the buildah emitter, to the shell and to the image.
  { weight: 2, arbitrary: fc.constantFrom("PATH", "path", "DOCKWRIGHT_DOLLAR", "__proto__", "constructor", "HOME", "IFS", "API_TOKEN") },
  { weight: 1, arbitrary: hostile },
);

const aptPackage = mostly(
  fc.oneof(
    fc.constantFrom("git", "g++", "libgomp1", "libc6:amd64", "curl=7.88.1-10+deb12u5", "python3.11/bookworm-backports", "ca-certificates"),
    fc.stringMatching(/^[a-z0-9][a-z0-9+.-]{1,10}(:[a-z0-9-]{1,5})?(=[A-Za-z0-9.+~:-]{1,8})?$/),
  ),
);

const imageRef = mostly(
  fc.constantFrom(
    "python:3.11-slim",
    "ghcr.io/org/team/image:v1.2_rc-3",
    "localhost:5000/a/b",
    "[::1]:5000/x:latest",
    `registry.example.com/zenml@sha256:${"a".repeat(64)}`,
    `python:3.12@sha256:${"0f".repeat(32)}`,
    "zenmldocker/zenml",
    "scratch",
  ),
);

const user = mostly(fc.oneof(fc.constantFrom("zenml", "1000", "1000:1000", "root", "a.b-c:staff", "_x"), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}(:[0-9]{1,5})?$/)));

const flagName = mostly(fc.oneof(fc.constantFrom("index-url", "extra-index-url", "no-deps", "default-timeout", "pre", "no-cache-dir"), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/)));
const flagValue = fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }) }, { weight: 5, arbitrary: oneLine });

const secretId = mostly(fc.oneof(fc.constantFrom("netrc", "index.token", "pip-conf", "A_b.c-1"), fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/)));
const mountTarget = mostly(fc.oneof(fc.constantFrom("/root/.netrc", "/run/secrets/x", "/etc/pip.conf", "/a/b.c-d_e"), fc.stringMatching(/^\/[a-z0-9_.-]{1,8}(\/[a-z0-9_.-]{1,8})?$/)));

/** A secret: its id, mostly exactly one source (sometimes both or none), a variable and a target. */
const secret = fc
  .tuple(
    fc.record({ id: secretId, env: envName, target: mountTarget }, { requiredKeys: ["id"] }),
    fc.oneof(
      { weight: 16, arbitrary: fc.record({ source_env: envName }) },
      { weight: 16, arbitrary: fc.record({ source_file: mostly(fc.constantFrom("~/.netrc", "secrets/token", "/etc/pip.conf", "with space, and comma")) }) },
      { weight: 1, arbitrary: fc.record({ source_env: envName, source_file: fc.constant("both.txt") }) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
  )
  .map(([secret, source]) => ({ ...secret, ...source }));

/** A relative path of the source root, sometimes hostile. */
const relativePath = mostly(fc.constantFrom("requirements.txt", "deps/requirements-dev.txt", "with space/req's.txt", "ünïcødé.txt", "a$b`c`.txt"));

/**
 * Requirement lines. Their text reaches only the generated requirements files, never a command
 * line, so mostly valid ones (core parses them), with hostile values where pip allows any text.
 */
const requirementLine = mostly(
  fc.oneof(
    fc.constantFrom("numpy==2.0", "pandas>=2; python_version > '3.8'", "torch[cuda]~=2.3", "-e .", "--index-url https://u:p@x.example/simple", "# comment"),
    oneLine.map((text) => `pkg @ https://example.com/${text.replace(/\s/g, "")}.whl`),
    oneLine.map((text) => `numpy  # ${text}`),
  ),
  1,
  20,
);

/** Lines ended by any line separator: pip must read them as the resolver does. */
const requirementsText = fc
  .array(fc.tuple(requirementLine, fc.oneof({ weight: 8, arbitrary: fc.constant("\n") }, { weight: 2, arbitrary: fc.constantFrom(...lineSeparators) })), { maxLength: 5 })
  .map((lines) => lines.map(([line, end]) => line + end).join(""));

/**
 * Names of files in the build context that break naive printing or command lines: line breaks,
 * terminal escapes, forged diagnostics, leading dashes, shell syntax; some of them look like
 * secrets, so that a warning names them.
 */
export const contextFileName: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("a\nerror FAKE_CODE at x: forged", "\u001b[2J\u001b[31mred", "\u009b31m", "-rf", "--chown=0:0", "-", "$(touch pwned)", "`id`", " lead", "trail ", "a\u2028b", "\u202ecod.exe", "x\ty", "\r"),
    fc.constantFrom("", ".env", "/.env", "/id_rsa", ".txt"),
  )
  .map(([name, suffix]) => name + suffix);

export type Case = {
  /** The run configuration. */
  config: Record<string, unknown>;
  /** Files of the in-memory source root (and build context). */
  files: Record<string, string>;
  pipelineName: string;
  /** The exec-form entrypoint an embedding tool asks for. */
  entrypoint?: string[];
};

/** A field present in about one case of `every`. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 1, arbitrary }, { weight: every - 1, arbitrary: fc.constant(undefined) });
}

/** Drops the absent fields, as a configuration file would not have them. */
function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/**
 * Docker settings with every field that reaches an output, each present in some cases; `step`
 * settings (merged over the pipeline's) hold fewer, so that both scopes compile often enough.
 */
function dockerSettings(requirementsFile: string, scope: "pipeline" | "step") {
  const often = scope === "pipeline" ? 2 : 4;
  const rarely = scope === "pipeline" ? 4 : 10;
  return fc
    .record({
      parent_image: sometimes(imageRef, often),
      environment: sometimes(fc.dictionary(envName, oneLine, { maxKeys: 4 }), often),
      apt_packages: sometimes(fc.array(aptPackage, { maxLength: 3 }), often),
      requirements: sometimes(fc.oneof(fc.array(requirementLine, { maxLength: 4 }), fc.constant(requirementsFile)), often),
      python_package_installer: sometimes(fc.constantFrom("pip", "uv"), often),
      python_package_installer_args: sometimes(fc.dictionary(flagName, flagValue, { maxKeys: 3 }), often),
      user: sometimes(user, often),
      local_project_install_command: sometimes(oneLine, rarely),
      secrets: sometimes(fc.array(secret, { minLength: 1, maxLength: 2 }), rarely),
      target_repository: sometimes(mostly(fc.constantFrom("zenml", "registry.example.com:5000/team/zenml")), rarely),
      // Labels of the image itself (a user Dockerfile's are in dockerfileParent).
      build_config: sometimes(fc.record({ build_options: fc.record({ labels: fc.dictionary(fc.oneof(fc.constantFrom("org.example.team", "a"), optionKey), optionText, { minKeys: 1, maxKeys: 2 }) }) }), rarely),
      // Rarely false: an install command needs the files.
      allow_including_files_in_images: sometimes(fc.constant(false), 20),
      allow_download_from_artifact_store: fc.constant(false),
      allow_download_from_code_repository: fc.constant(false),
    })
    .map(present);
}

/**
 * Build option values: any text, line breaks included, but no NUL or unpaired surrogate. Core does
 * not check build options yet (reported), and no file or argument can hold those.
 */
const optionText = freeText.map((value) => value.replace(/\0|\p{Cs}/gu, ""));
/** Build arg and label names hold no `=` either: `--build-arg` and `--label` split at the first one. */
const optionKey = optionText.map((value) => value.replaceAll("=", ""));

/** A user Dockerfile as parent, with the fields that reach the Buildah script and the LLB note. */
const dockerfileParent = fc.record(
  {
    dockerfile: relativePath,
    build_context_root: mostly(fc.constantFrom(".", "docker", "ctx dir/sub")),
    parent_image_build_config: fc.record(
      {
        build_options: fc.record(
          {
            buildargs: fc.dictionary(fc.oneof(fc.constantFrom("VERSION", "PY"), optionKey), optionText, { maxKeys: 2 }),
            labels: fc.dictionary(fc.oneof(fc.constantFrom("org.example.team", "a"), optionKey), optionText, { maxKeys: 2 }),
            target: fc.oneof(fc.constantFrom("prod", "build"), optionText),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    environment: fc.dictionary(envName, oneLine, { maxKeys: 2 }),
  },
  { requiredKeys: ["dockerfile"] },
);

export const cases: fc.Arbitrary<Case> = fc
  .record({
    requirementsFile: fc.tuple(relativePath, requirementsText),
    contextFiles: fc.uniqueArray(contextFileName, { maxLength: 3 }),
    parent: fc.oneof({ weight: 3, arbitrary: fc.constant("settings") }, { weight: 1, arbitrary: fc.constant("dockerfile") }),
    pipelineName: mostly(fc.constantFrom("training", "p-1.x"), 1, 40),
    entrypoint: sometimes(fc.array(freeText, { minLength: 1, maxLength: 2 }), 4),
  })
  .chain(({ requirementsFile: [path, text], contextFiles, parent, pipelineName, entrypoint }) => {
    // A file holds UTF-8: no unpaired surrogate survives being written.
    const files = { ...Object.fromEntries(contextFiles.map((name) => [name, "x\n"])), [path]: Buffer.from(text).toString("utf8") };
    const pipeline = parent === "dockerfile" ? dockerfileParent : dockerSettings(path, "pipeline");
    return fc
      .record({
        pipeline,
        // A step with settings of its own, merged over the pipeline's: another image.
        step: sometimes(fc.tuple(mostly(fc.constantFrom("trainer", "eval.v2")), dockerSettings(path, "step")), 2),
      })
      .map(({ pipeline, step }): Case => {
        const dockerfile = (pipeline as { dockerfile?: unknown }).dockerfile;
        return {
          config: {
            settings: { docker: pipeline },
            ...(step ? { steps: { [step[0]]: { settings: { docker: step[1] } } } } : {}),
          },
          files: typeof dockerfile === "string" ? { ...files, [dockerfile]: "FROM python:3.11\n" } : files,
          pipelineName,
          ...(entrypoint ? { entrypoint } : {}),
        };
      });
  });
