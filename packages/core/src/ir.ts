/**
 * The build IR: plain, JSON-serializable data that every backend prints.
 *
 * No classes and no logic live here. Layers are discriminated on `kind`; emitters match them
 * exhaustively, so a new kind is a type error in every backend until it is handled.
 */

/** The whole result of a compile: images in build order and the step -> image map. */
export type BuildPlan = {
  pipeline: string;
  /** The ZenML release whose images these are, e.g. `0.93.0`. */
  release: string;
  /** Images in build order: an image comes after every image it uses as parent. */
  images: ImagePlan[];
  /** Step name -> key of the image the step runs in; null when the orchestrator runs no images. */
  steps: Record<string, string | null>;
  /** Where the pipeline's code comes from at run time, for the images that download it. */
  code: CodeSource;
  /**
   * The container registry the images are named under and pushed to: the stack's
   * `container_registry` uri, or the compile request's override. Absent: images stay local.
   */
  registry?: string;
};

/** The code that images without their sources download when they run. */
export type CodeSource = {
  /** A registered code repository at a clean, pushed commit. */
  repository?: { type: string; url: string; commit: string; subdirectory: string };
  /**
   * The source root packed for the artifact store: `path` as the host wrote it, `sha256` of the
   * tar inside (gzip bytes vary with zlib), and `location` where the host uploaded it (absent: not
   * uploaded, the run finds no code).
   */
  archive?: { path: string; sha256: string; location?: string };
};

export type ImagePlan = {
  /** Stable identifier within the plan, also the output folder name: `orchestrator`, `<step>.orchestrator`, `<key>.intermediate`. */
  key: string;
  /** Full image reference the build is tagged with, as ZenML names it: `[registry/]repository:tag`. */
  tag: string;
  /** `sha256:<hex>` over everything that determines the image. */
  checksum: string;
  /**
   * `build`: the layers are built on the parent. `use-parent`: the parent is used as is
   * (`skip_build`). `retag-parent`: nothing to install, so the parent is tagged as this image.
   */
  mode: "build" | "use-parent" | "retag-parent";
  parent: ParentImage;
  /** In build order. */
  layers: Layer[];
  config: ImageConfig;
  context: BuildContext;
  platform: Platform;
  /** Where the pipeline's code comes from at run time. */
  sources: SourceDecision;
  /** Secrets the install layers mount; the builder supplies their values. */
  secrets: BuildSecret[];
  /**
   * How the builder runs the build. Of `buildArgs` only Docker's predefined proxy variables are
   * left (no generated Dockerfile declares an `ARG`): every RUN step sees them, no layer stores
   * them. Labels and the platform are in `config` and `platform`.
   */
  buildOptions: BuildOptions;
  /** An earlier build with the same checksum may stand in for this one (not `prevent_build_reuse`). */
  reuse: boolean;
};

export type ParentImage =
  /**
   * A registry reference, as the user wrote it (`python:3.11`, `ghcr.io/org/img@sha256:...`);
   * `resolved` when the host resolved it (the build then starts from exactly that digest).
   */
  | { kind: "image"; ref: string; resolved?: ResolvedParent }
  /** Another image of this plan (the intermediate build of a user Dockerfile); `resolved` once it is built and pushed. */
  | { kind: "plan"; key: string; tag: string; resolved?: ResolvedParent }
  /** A user Dockerfile, built as is. */
  | {
      kind: "dockerfile";
      /**
       * Paths as the settings give them: absolute, or relative to the folder relative settings
       * paths start from (the CLI: the configuration file's folder).
       */
      path: string;
      /** The Dockerfile's text. */
      dockerfile: string;
      /** The build context folder; absent = only the Dockerfile. */
      contextRoot?: string;
      buildOptions: BuildOptions;
      /** The .dockerignore file, when one is given. */
      dockerignore?: string;
    };

export type Platform = { os: string; architecture: string; variant?: string };

/** A parent as its registry describes it, for the image's platform. */
export type ResolvedParent = {
  /**
   * `sha256:<hex>` of the image manifest for the image's platform (of a multi-platform index, the
   * platform's entry): every builder starts from exactly that image.
   */
  digest: string;
  config: ParentConfig;
};

/**
 * What an image inherits of its parent's configuration (as a Dockerfile build does): the
 * environment its RUN steps see, the user and directory they run as and in, and what the
 * image config keeps unless the layers change it.
 */
export type ParentConfig = {
  /** In the parent's order. */
  env: [name: string, value: string][];
  /** Empty: root. */
  user: string;
  /** Empty: `/`. */
  workingDir: string;
  entrypoint?: string[];
  cmd?: string[];
  /** Sorted by name. */
  labels: [name: string, value: string][];
};

/** Build options in one form, from docker-py's or ZenML's names; values as Python prints them. */
export type BuildOptions = {
  buildArgs: [name: string, value: string][];
  labels: [name: string, value: string][];
  platform?: string;
  /** The stage of a multi-stage Dockerfile to build. */
  target?: string;
  network?: string;
  noCache?: boolean;
  pull?: boolean;
  /** Bytes of `/dev/shm` for RUN steps. */
  shmSize?: number;
  cacheFrom: string[];
  extraHosts: [host: string, address: string][];
  /** Options no builder translates; a builder warns about each one it ignores. */
  other: Record<string, unknown>;
};

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
  /**
   * The context is staged with every file and folder readable and writable by anyone (mode |
   * 0o666), as the image leaves them after ZenML's `chmod -R a+rw .`; the permissions layer then
   * has nothing of the context left to change, so no file is stored twice.
   */
  writable: boolean;
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
  /** The source files are copied into the image. */
  | { mode: "include" }
  /** Neither copied nor downloaded. */
  | { mode: "ignore" }
  /** Downloaded at run time from the plan's code repository. */
  | { mode: "code-repository" }
  /** Downloaded at run time from the artifact store: the plan's code archive. */
  | { mode: "artifact-store" };

/** A part of an environment value: text, or a variable of the image's environment when the layer runs. */
export type EnvPart = string | { variable: string; modifier?: "-" | ":-" | "+" | ":+"; word?: EnvPart[] };
/** An environment value as Docker evaluates it: the parts joined, each variable replaced by its value. */
export type EnvValue = EnvPart[];

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
  /** Rendered flags in the release's order (`--default-timeout=60`, `--no-deps`), without `--no-cache-dir`. */
  args: string[];
  /**
   * The release asks for no installer cache in the image (`no-cache-dir`). Backends with cache
   * mounts use one instead; the others pass `--no-cache-dir`.
   */
  noCache: boolean;
};

/** A line of a generated requirements file and every place it came from. */
export type RequirementLine = { text: string; from: string[] };

export type RequirementsOrigin = "local" | "pyproject" | "user" | "integrations" | "stack";

export type Layer =
  | { kind: "workdir"; path: string }
  /** Lasting environment variables, in order; a later value may read an earlier one. */
  | { kind: "env"; vars: [name: string, value: EnvValue][] }
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
  /** Copies the build context into the work directory, owned by `chown` (`user:group`) when given. */
  | { kind: "sources"; chown?: string }
  /**
   * Leaves the work directory as ZenML's `chmod -R a+rw .` (`writable`) and `chown -R <owner> .`
   * do, touching only what is not so already.
   */
  | { kind: "permissions"; writable: boolean; owner?: string }
  /** A user shell command, e.g. `local_project_install_command`. */
  | { kind: "run"; purpose: string; shell: string }
  | { kind: "user"; name: string };

export type LayerKind = Layer["kind"];
