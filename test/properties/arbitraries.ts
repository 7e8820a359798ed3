/**
 * Generators of hostile settings: every field that reaches an output gets, besides plausible
 * values, strings built from the pieces that break naive quoting in a Dockerfile, a shell script
 * or a protobuf, plus arbitrary code points and very long values.
 */
import fc from "fast-check";

/** Pieces that mean something to Docker's parser, a POSIX shell, buildah, YAML or a terminal. */
const pieces = [
  // Line and instruction breaks.
  "\n", "\r", "\r\n", "\0", "\t", "\v", "\f", "\u001b[31m", "\\\n", "\\",
  // Quoting and expansion.
  "'", '"', "$", "$(touch /tmp/pwned)", "`id`", "${HOME}", "$HOME", "\\$", "$$", "${DOCKWRIGHT_DOLLAR}", "%s",
  // Shell control.
  ";", "&&", "||", "|", "&", ">", "<", "<<EOF", "<<-EOF", "<<'EOF'", "EOF", "#", " # comment",
  // Docker parser: flags, exec form, heredocs, continuation.
  "--mount=type=bind,source=/,target=/host", "--network=host", '["x"]', "[", "]", "RUN id", "FROM scratch", "USER root",
  // Separators of mount options, CSV and env pairs.
  "=", ",", ":", "@", "/", "..", ".", "-", "--", "*", "?", "~", "!", "{", "}",
  // Unicode: line separators, NEL, no-break space, BOM, astral, combining, right-to-left, lone surrogates.
  "\u2028", "\u2029", "\u0085", "\u00a0", "\ufeff", "😀", "e\u0301", "\u202e", "\u05d0\u05d1", "中文", "\ud800", "\udc00",
  // Plain text, so that pieces also land inside words.
  " ", "a", "A_1", "x", "0",
];

const joined = fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 8 }).map((parts) => parts.join(""));

/** Long values: a piece repeated to 1,000-100,000 characters. */
const long = fc
  .tuple(fc.constantFrom("a", "$", "'", "\\", "😀", "x y", "\u2028"), fc.integer({ min: 1_000, max: 100_000 }))
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
function mostly<T>(valid: fc.Arbitrary<T>, hostileWeight = 1, validWeight = 12): fc.Arbitrary<T | string> {
  return fc.oneof({ weight: validWeight, arbitrary: valid }, { weight: hostileWeight, arbitrary: hostile });
}

/** Values where core accepts anything on one line: the hostile cases are the point. */
const freeText = fc.oneof({ weight: 3, arbitrary: hostile }, { weight: 1, arbitrary: fc.constantFrom("1", "", "value with spaces") });
/** The same without the line breaks core rejects anyway, so that cases compile more often. */
const oneLine = freeText.map((value) => value.replace(/[\n\r\0]/g, ""));

const envName = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/) },
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
      { weight: 8, arbitrary: fc.record({ source_env: envName }) },
      { weight: 8, arbitrary: fc.record({ source_file: mostly(fc.constantFrom("~/.netrc", "secrets/token", "/etc/pip.conf", "with space, and comma")) }) },
      { weight: 1, arbitrary: fc.record({ source_env: envName, source_file: fc.constant("both.txt") }) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
  )
  .map(([secret, source]) => ({ ...secret, ...source }));

/** A relative path of the source root, sometimes hostile. */
const relativePath = mostly(fc.constantFrom("requirements.txt", "deps/requirements-dev.txt", "with space/req's.txt", "ünïcødé.txt", "a$b`c`.txt"));

/** Text of a requirements file: any lines, since the file's contents are copied, never quoted. */
const requirementsText = fc.array(fc.oneof(fc.constantFrom("numpy==2.0", "pandas>=2; python_version>'3.8'", "-e .", "--index-url https://u:p@x/simple", "# comment"), hostile), { maxLength: 5 }).map((lines) => lines.join("\n"));

export type Case = {
  /** The run configuration. */
  config: Record<string, unknown>;
  /** Files of the in-memory source root. */
  files: Record<string, string>;
  pipelineName: string;
};

/** Docker settings with every field that reaches an output; each field present or not. */
function dockerSettings(files: fc.Arbitrary<[string, string]>) {
  return fc.record(
    {
      parent_image: imageRef,
      environment: fc.dictionary(envName, mostly(oneLine, 1, 4), { maxKeys: 5 }),
      apt_packages: fc.array(aptPackage, { maxLength: 3 }),
      requirements: fc.oneof(
        fc.array(mostly(oneLine, 1, 4), { maxLength: 4 }),
        files.map(([path]) => path),
      ),
      python_package_installer: fc.constantFrom("pip", "uv"),
      python_package_installer_args: fc.dictionary(flagName, flagValue, { maxKeys: 3 }),
      user,
      local_project_install_command: mostly(oneLine, 1, 2),
      secrets: fc.array(secret, { maxLength: 2 }),
      target_repository: mostly(fc.constantFrom("zenml", "registry.example.com:5000/team/zenml")),
      allow_including_files_in_images: fc.boolean(),
      allow_download_from_artifact_store: fc.constant(false),
      allow_download_from_code_repository: fc.constant(false),
    },
    { requiredKeys: [] },
  );
}

/** A user Dockerfile as parent, with the fields that reach the Buildah script and the LLB note. */
const dockerfileParent = fc.record(
  {
    dockerfile: relativePath,
    build_context_root: mostly(fc.constantFrom(".", "docker", "ctx dir/sub")),
    parent_image_build_config: fc.record(
      {
        build_options: fc.record(
          {
            buildargs: fc.dictionary(mostly(fc.constantFrom("VERSION", "PY")), freeText, { maxKeys: 2 }),
            labels: fc.dictionary(mostly(fc.constantFrom("org.example.team", "a")), freeText, { maxKeys: 2 }),
            target: mostly(fc.constantFrom("prod", "build")),
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
    kind: fc.constantFrom("settings", "settings", "settings", "dockerfile"),
    pipelineName: mostly(fc.constantFrom("training", "p-1.x"), 1, 20),
  })
  .chain(({ requirementsFile, kind, pipelineName }) => {
    const files = { [requirementsFile[0]]: requirementsFile[1] };
    const pipeline = kind === "dockerfile" ? dockerfileParent : dockerSettings(fc.constant(requirementsFile));
    return fc
      .record({
        pipeline,
        // A step with settings of its own, merged over the pipeline's: another image.
        step: fc.option(fc.tuple(mostly(fc.constantFrom("trainer", "eval.v2")), dockerSettings(fc.constant(requirementsFile))), { nil: undefined }),
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
        };
      });
  });
