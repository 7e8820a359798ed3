/** Hand-built IR for backend tests, and what a Dockerfile of it must hold. */
import type { ImagePlan, Layer } from "@dockwright/core";

/** An image on python:3.11-slim with WORKDIR /app, then `layers`. */
export function imagePlan(layers: Layer[], extra: Partial<ImagePlan> = {}): ImagePlan {
  return {
    key: "pipeline",
    tag: "zenml:p-orchestrator",
    checksum: "sha256:0",
    parent: { kind: "image", ref: "python:3.11-slim" },
    layers: [{ kind: "workdir", path: "/app" }, ...layers],
    config: { labels: [] },
    context: { generated: [{ path: ".zenml_user_requirements", contents: "numpy\n" }], dockerignore: [], writable: false },
    platform: { os: "linux", architecture: "amd64" },
    sources: { mode: "include" },
    mode: "build",
    secrets: [],
    buildOptions: { buildArgs: [], labels: [], cacheFrom: [], extraHosts: [], other: {} },
    reuse: true,
    ...extra,
  };
}

/** The instructions a Dockerfile of the image has, in order. */
export function expectedKeywords(image: ImagePlan): string[] {
  const perLayer: Record<Layer["kind"], string[]> = {
    workdir: ["WORKDIR"], env: ["ENV"], apt: ["RUN"], installer: ["RUN"], requirements: ["COPY", "RUN"],
    sources: ["COPY"], permissions: ["RUN"], run: ["RUN"], user: ["USER"],
  };
  return [
    "FROM",
    ...image.layers.flatMap((l) => perLayer[l.kind]),
    ...(image.config.entrypoint ? ["ENTRYPOINT"] : []),
    ...(image.config.cmd ? ["CMD"] : []),
    ...(image.config.labels.length > 0 ? ["LABEL"] : []),
  ];
}
