/**
 * The build IR: plain, JSON-serializable data that every backend prints.
 *
 * No classes and no logic live here. Layers are discriminated on `kind`; emitters match them
 * exhaustively, so a new kind is a type error in every backend until it is handled.
 */

/** The whole result of a compile: images in build order and the step -> image map. */
export type BuildPlan = {
  pipeline: string;
  /** Images in build order: an image comes after every image it uses as parent. */
  images: ImagePlan[];
  /** Step name -> key of the image the step runs in. */
  steps: Record<string, string>;
};

export type ImagePlan = {
  /** Stable identifier within the plan, also the output folder name. */
  key: string;
  /** Full image reference the build is tagged with, e.g. `zenml:training-pipeline`. */
  tag: string;
  /** `sha256:<hex>` over everything that determines the image. */
  checksum: string;
  parent: ParentImage;
  /** In build order. */
  layers: Layer[];
  config: ImageConfig;
  context: BuildContext;
  platform: Platform;
  /** Where the pipeline's code comes from at run time. */
  sources: SourceDecision;
  /** The parent is used as is: nothing is built. */
  skipBuild: boolean;
  /** Secrets the install layers mount; the builder supplies their values. */
  secrets: BuildSecret[];
  /** An earlier build with the same checksum may stand in for this one (not `prevent_build_reuse`). */
  reuse: boolean;
};

export type ParentImage =
  /** A registry reference, as the user wrote it (`python:3.11`, `ghcr.io/org/img@sha256:...`). */
  | { kind: "image"; ref: string }
  /** Another image of this plan (for example an intermediate build of a user Dockerfile). */
  | { kind: "plan"; key: string; tag: string }
  /** A user Dockerfile, built as is: its text is in `dockerfile`, its context root in `contextRoot`. */
  | {
      kind: "dockerfile";
      /** Path of the Dockerfile relative to the source root (POSIX). */
      path: string;
      /** The Dockerfile's text. */
      dockerfile: string;
      /** Build context root relative to the source root; absent = only the Dockerfile. */
      contextRoot?: string;
      buildOptions: Record<string, unknown>;
      dockerignore?: string;
    };

export type Platform = { os: string; architecture: string; variant?: string };

/**
 * Image configuration that no layer carries. Env, WorkingDir and User come from the `env`,
 * `workdir` and `user` layers.
 */
export type ImageConfig = {
  entrypoint?: string[];
  cmd?: string[];
  /** Sorted by name. */
  labels: [name: string, value: string][];
};

export type BuildContext = {
  /** Files Dockwright writes next to the build definition; always part of the context. */
  generated: GeneratedFile[];
  /**
   * Patterns of the effective .dockerignore in Docker's normalized form, as its ignore-file reader
   * hands them to BuildKit: no comments, trimmed, cleaned, no leading `/`; `!.zen` last.
   */
  dockerignore: string[];
  /** The source files that reach the image, when sources are included. */
  sources?: ContextSnapshot;
};

export type GeneratedFile = {
  /** Relative POSIX path inside the build context. */
  path: string;
  contents: string;
};

/** The files, links and folders of a build context, as `@dockwright/context` computes them. */
export type ContextSnapshot = {
  /** Sorted by path (byte order of the UTF-8 path): a folder comes before what it holds. */
  entries: ContextEntry[];
  /** `sha256:<hex>` over the sorted entries (path, type, mode, size, content hash or link target). */
  digest: string;
  /** Sum of file sizes in bytes. */
  totalSize: number;
};

export type ContextEntry = {
  /** Relative POSIX path from the context root. */
  path: string;
  /**
   * `dir`: a folder Docker sends, so that `COPY . .` creates it with its mode even when it holds
   * nothing that is sent (an empty folder, or one whose files are all excluded). Not the root.
   */
  type: "file" | "symlink" | "dir";
  /** Bytes of a file; 0 for links and folders. */
  size: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  /** `sha256:<hex>` of the contents (files only). */
  sha256?: string;
  /** Link target, as stored (symlinks only). */
  target?: string;
};

export type SourceDecision =
  | { mode: "include" }
  | { mode: "ignore" }
  | { mode: "code-repository"; url: string; commit: string; subdirectory: string }
  | { mode: "artifact-store"; archive: string; sha256: string };

/** A cache directory kept between builds (BuildKit cache mounts, Buildah `--mount=type=cache`). */
export type CacheMount = { id: string; target: string; sharing: "shared" | "private" | "locked" };

/** A secret file present for one command only, never in a layer. */
export type SecretMount = {
  id: string;
  /** Absolute path of the file inside the build container. */
  target: string;
  /** Exposed to the command as this environment variable too (read from the file). */
  env?: string;
};

/** Where a secret's value comes from when the image is built; only its name ever reaches an output. */
export type BuildSecret = { id: string; source: { env: string } | { file: string } };

/**
 * The command of a layer, as `commandsFor` lowers it for a backend's capabilities: one POSIX
 * shell command line, run by `/bin/sh -c` in every backend. Every value in it is already quoted.
 */
export type RunSpec = { shell: string; cacheMounts: CacheMount[]; secrets: SecretMount[] };

/** How requirements are installed. */
export type Installer = {
  tool: "pip" | "uv";
  /** Rendered flags in order (`--default-timeout=60`, `--no-deps`), without `--no-cache-dir`. */
  args: string[];
  /**
   * The settings ask for no installer cache in the image (`no-cache-dir`). Backends with cache
   * mounts use one instead; the others pass `--no-cache-dir`.
   */
  noCache: boolean;
};

/** A line of a generated requirements file and every place it came from. */
export type RequirementLine = { text: string; from: string[] };

export type RequirementsOrigin = "local" | "pyproject" | "user" | "integrations" | "stack";

export type Layer =
  | { kind: "workdir"; path: string }
  /** Lasting environment variables, in order. */
  | { kind: "env"; vars: [name: string, value: string][] }
  /** Debian packages, sorted and validated. */
  | { kind: "apt"; packages: string[] }
  /** Installs the Python package installer itself (uv), with pip. */
  | { kind: "installer"; tool: "uv"; secrets: SecretMount[] }
  /**
   * Copies one generated requirements file (context path `file`) to `dest`, then installs it.
   * `lines` are the file's lines with where each came from (settings paths, integrations).
   */
  | {
      kind: "requirements";
      origin: RequirementsOrigin;
      file: string;
      dest: string;
      installer: Installer;
      secrets: SecretMount[];
      lines: RequirementLine[];
    }
  /** Copies the source files (the context snapshot) into the work directory. */
  | { kind: "sources"; chown?: string }
  /** A user shell command that needs the sources, e.g. `local_project_install_command`. */
  | { kind: "run"; purpose: string; shell: string }
  | { kind: "user"; name: string };

export type LayerKind = Layer["kind"];
