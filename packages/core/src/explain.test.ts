import { expect, test } from "vitest";
import { explainImage } from "./explain.js";
import type { ImagePlan, Installer } from "./ir.js";
import { resolveRequirements } from "./requirements.js";

const pip: Installer = { tool: "pip", args: ["--default-timeout=60"], noCache: true };

test("where each requirement came from, and what rebuilds when an input changes", () => {
  const { files } = resolveRequirements(
    [
      { origin: "user", text: "-r base.txt\n-e ./libs/features\nkubernetes\n", from: "settings.docker.requirements", file: "reqs/dev.txt" },
      { origin: "integrations", text: "kubernetes\nkubernetes>=21.7,<26\nsagemaker==2.117.0", from: "required_integrations" },
    ],
    { pythonVersion: "3.11", platform: { os: "linux", architecture: "amd64" } },
    new Map([["reqs/base.txt", "pandas==2.2.0\n"]]),
  );
  const linesOf = (origin: string, afterSources: boolean) =>
    files.find((f) => f.origin === origin && f.afterSources === afterSources)?.lines ?? [];
  const image: ImagePlan = {
    key: "pipeline",
    tag: "zenml:training-orchestrator",
    checksum: "sha256:0",
    parent: { kind: "image", ref: "python:3.11-slim" },
    layers: [
      { kind: "workdir", path: "/app" },
      { kind: "env", vars: [["MODE", ["train"]]] },
      { kind: "apt", packages: ["git"] },
      { kind: "requirements", origin: "user", file: ".zenml_user_requirements", dest: "/app/.zenml_user_requirements", installer: pip, secrets: [], lines: linesOf("user", false) },
      { kind: "requirements", origin: "integrations", file: ".zenml_integration_requirements", dest: "/app/.zenml_integration_requirements", installer: pip, secrets: [], lines: linesOf("integrations", false) },
      { kind: "sources" },
      { kind: "requirements", origin: "user", file: ".zenml_user_path_requirements", dest: "/app/.zenml_user_path_requirements", installer: pip, secrets: [], lines: linesOf("user", true) },
      { kind: "user", name: "zenml" },
    ],
    config: { labels: [] },
    context: { generated: [], dockerignore: [], writable: false },
    platform: { os: "linux", architecture: "amd64" },
    sources: { mode: "include" },
    mode: "build",
    secrets: [],
    buildOptions: { buildArgs: [], labels: [], cacheFrom: [], extraHosts: [], other: {} },
    reuse: false,
  };
  expect(explainImage(image)).toBe(`image pipeline: zenml:training-orchestrator
layers, in build order:
  1. work directory /app
  2. environment MODE
  3. apt packages git
  4. pip install -r .zenml_user_requirements (user requirements)
       pandas==2.2.0  <- reqs/base.txt:1 (settings.docker.requirements)
       kubernetes     <- reqs/dev.txt:3 (settings.docker.requirements)
  5. pip install -r .zenml_integration_requirements (integrations requirements)
       kubernetes            <- required_integrations
       kubernetes>=21.7,<26  <- required_integrations
       sagemaker==2.117.0    <- required_integrations
  6. copy the source files
  7. pip install -r .zenml_user_path_requirements (user requirements)
       -e ./libs/features  <- reqs/dev.txt:2 (settings.docker.requirements)
  8. user zenml
when an input changes, these layers rebuild:
  the parent image                layers 1-8
  environment                     layers 2-8
  apt_packages                    layers 3-8
  the integrations' apt packages  layers 3-8
  python_package_installer_args   layers 4-8
  reqs/base.txt                   layers 4-8
  reqs/dev.txt                    layers 4-8
  required_integrations           layers 5-8
  the source files                layers 6-8
  user                            layer 8
`);
});

test("an image that is not built", () => {
  const image = { key: "pipeline", tag: "python:3.11", mode: "use-parent", layers: [] } as unknown as ImagePlan;
  expect(explainImage(image)).toBe("image pipeline: python:3.11\n  not built: the parent image is used as is\n");
});
