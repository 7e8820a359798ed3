/** The backends the CLI wires onto the compiler's `emit` hook. */
import type { Compiler } from "@dockwright/core";
import { emitBuildah } from "@dockwright/emit-buildah";
import { emitDockerfile, type DockerfileMode } from "@dockwright/emit-dockerfile";
import { emitLlb } from "@dockwright/emit-llb";

export const backendNames = ["dockerfile", "buildah", "llb"] as const;
export type BackendName = (typeof backendNames)[number];

export function isBackend(name: string): name is BackendName {
  return (backendNames as readonly string[]).includes(name);
}

export function registerBackends(compiler: Compiler): void {
  compiler.hooks.emit.for("dockerfile").tap("dockwright", (image, { mode }) =>
    emitDockerfile(image, { mode: (mode ?? "buildkit") as DockerfileMode }));
  // Plain mode means no cache mounts, for Buildah as for the Dockerfile.
  compiler.hooks.emit.for("buildah").tap("dockwright", (image, { mode }) =>
    emitBuildah(image, { cacheMounts: mode !== "plain" }));
  // LLB always has cache mounts: every BuildKit has them.
  compiler.hooks.emit.for("llb").tap("dockwright", (image) => emitLlb(image));
}
