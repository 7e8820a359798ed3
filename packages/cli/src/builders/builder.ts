/**
 * What every builder is: one module per tool under `builders/` (buildah, docker, buildctl and
 * the native BuildKit client), each a `Builder`. The build command plans the run; a builder builds
 * one image from its folder of build definitions, pushes it when asked, and, where the tool keeps
 * images on this machine, looks them up and tags them.
 */
import type { ImagePlan } from "@dockwright/core";
import type { TlsOptions } from "@dockwright/buildkit";
import type { BackendName } from "../backends.js";

export const builderNames = ["buildah", "docker", "buildctl", "buildkit"] as const;
export type BuilderName = (typeof builderNames)[number];

/** Registry access as the builders need it: which hosts speak plain HTTP, and whose credentials. */
export type RegistryAccess = {
  /** A `host[:port]` marked insecure (plain HTTP, or HTTPS unverified). */
  insecure(host: string): boolean;
  /** Docker's credentials for a registry host (config.json, helpers), or undefined: anonymous. */
  credentials(host: string): Promise<{ username: string; secret: string } | undefined>;
};

/** How the builder was chosen on the command line. */
export type BuilderOptions = {
  /** The tool's command (buildah, docker, buildctl); unused by the native client. */
  bin: string;
  /** Dockerfile mode: `buildkit` (cache mounts) or `plain`. */
  mode: "buildkit" | "plain";
  /** Every layer built again: the tool's layer cache is not used (`--no-cache`). */
  noCache: boolean;
  /** `docker build --network`. */
  network?: string;
  /** The buildkitd address (buildctl, buildkit). */
  addr?: string;
  tls?: TlsOptions;
  /** Write OCI tarballs DIR/<image>.tar instead of images in BuildKit's store (buildctl, buildkit). */
  oci?: string;
  env: Record<string, string | undefined>;
  /** Where the tools run (the command's working directory). */
  cwd: string;
  registry: RegistryAccess;
};

/** What one tool invocation is given: where its output goes and what stops it. */
export type ToolContext = { log: (text: string) => void; signal: AbortSignal };

/** One image's build. */
export type BuildJob = ToolContext & {
  image: ImagePlan;
  /** The image's folder of build definitions. */
  folder: string;
  /** The staged build context. */
  context: string;
  /** A temporary folder of this build's own, removed after it. */
  staging: string;
  /** The configuration's folder: the plan's relative paths (secret files, a user Dockerfile) start there. */
  base: string;
  /** Push the image's tag to its registry; the build then returns the pushed manifest digest. */
  push: boolean;
};

/** The images a tool keeps on this machine (Buildah's storage, Docker's engine). */
export type ImageStore = {
  has(ref: string, context: ToolContext): Promise<boolean>;
  tag(from: string, to: string, context: ToolContext): Promise<void>;
  /** Pushes `ref` to its registry; resolves to the pushed manifest's digest. */
  push(ref: string, context: ToolContext): Promise<string>;
  /** Pulls `ref` from its registry (a parent, pinned). */
  pull(ref: string, context: ToolContext): Promise<void>;
};

export type Builder = {
  readonly name: BuilderName;
  /** The backend whose files it builds. */
  readonly backend: BackendName;
  /** Why the tool cannot run here (not installed), or undefined. */
  unavailable(): Promise<string | undefined>;
  /** Builds the image; with `push`, resolves to the pushed digest. Throws `ToolFailed`. */
  build(job: BuildJob): Promise<{ digest?: string }>;
  /** Absent for BuildKit, whose store this machine cannot read: it pulls parents from registries. */
  readonly store?: ImageStore;
};
