/** The backends the CLI wires onto the compiler's `emit` hook. */
import type { Compiler } from "@dockwright/core";
import { emitDockerfile, type DockerfileMode } from "@dockwright/emit-dockerfile";

export const backendNames = ["dockerfile"] as const;
export type BackendName = (typeof backendNames)[number];

export function isBackend(name: string): name is BackendName {
  return (backendNames as readonly string[]).includes(name);
}

export function registerBackends(compiler: Compiler): void {
  compiler.hooks.emit.for("dockerfile").tap("dockwright", (image, { mode }) =>
    emitDockerfile(image, { mode: (mode ?? "buildkit") as DockerfileMode }));
}
