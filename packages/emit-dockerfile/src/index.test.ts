import type { ImagePlan, Layer } from "@dockwright/core";
import { DockerfileParser, type Env, type Label } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import { imagePlan } from "../../../test/support/ir.ts";
import { emitDockerfile } from "./index.js";

const installer = { tool: "pip" as const, args: ["--default-timeout=60"], noCache: true };

function dockerfileOf(plan: ImagePlan, mode?: "buildkit" | "plain"): string {
  const file = emitDockerfile(plan, mode ? { mode } : {}).files.find((f) => f.path === "Dockerfile");
  return String(file?.contents);
}

/** dockerfile-ast resolves `\"` and `\\` but leaves `\$` for variable processing, which Docker then unescapes. */
const afterVariables = (value: string | null) => value?.replaceAll("\\$", "$");

describe("emitDockerfile", () => {
  const hostile = [
    'say "hi"',
    "$HOME and ${PATH}",
    "back\\slash\\",
    "a=b=c",
    "  spaces  ",
    "tab\there",
    "ünïcødé 🐳",
    "$(touch /tmp/pwned) `id`; rm -rf / && echo",
    "\\$ \\\\$ $\\",
    "",
  ];

  it("every ENV and LABEL value parses back to the input", () => {
    const vars = hostile.map((value, i): [string, string] => [`V${i}`, value]);
    const labels = hostile.map((value, i): [string, string] => [`org.example.l${i} "odd"`, value]);
    const text = dockerfileOf(imagePlan([{ kind: "env", vars: vars.map(([n, v]) => [n, [v]]) }], { config: { labels } }));
    const instructions = DockerfileParser.parse(text).getInstructions();
    const env = instructions.find((i) => i.getKeyword() === "ENV") as Env;
    expect(env.getProperties().map((p) => [p.getName(), afterVariables(p.getValue())])).toEqual(vars);
    const label = instructions.find((i) => i.getKeyword() === "LABEL") as Label;
    expect(label.getProperties().map((p) => [p.getName(), afterVariables(p.getValue())])).toEqual(labels);
  });

  it("prints one instruction per IR step, in order", () => {
    const plan = imagePlan([
      { kind: "env", vars: [["A", ["1"]]] },
      { kind: "apt", packages: ["curl", "git"] },
      { kind: "installer", tool: "uv", secrets: [] },
      { kind: "requirements", origin: "user", file: ".zenml_user_requirements", dest: "/app/.zenml_user_requirements", installer, secrets: [], lines: [] },
      { kind: "sources", chown: "zenml" },
      { kind: "run", purpose: "local_project_install_command", shell: "pip install -e ." },
      { kind: "user", name: "zenml" },
    ], { config: { entrypoint: ["python", "-m", "zenml"], labels: [] } });
    const keywords = DockerfileParser.parse(dockerfileOf(plan)).getInstructions().map((i) => i.getKeyword());
    expect(keywords).toEqual(["FROM", "WORKDIR", "ENV", "RUN", "RUN", "COPY", "RUN", "COPY", "RUN", "USER", "ENTRYPOINT"]);
  });

  it("buildkit mode uses cache mounts instead of --no-cache-dir; plain mode has no BuildKit syntax", () => {
    const plan = imagePlan([
      { kind: "apt", packages: ["git"] },
      { kind: "requirements", origin: "user", file: ".zenml_user_requirements", dest: "/app/.zenml_user_requirements", installer, secrets: [], lines: [] },
    ]);
    const buildkit = dockerfileOf(plan);
    expect(buildkit).toContain("RUN --mount=type=cache,id=pip-cache,target=/root/.cache/pip,sharing=shared pip install --default-timeout=60 -r /app/.zenml_user_requirements");
    expect(buildkit).not.toContain("--no-cache-dir");
    expect(buildkit).not.toContain("rm -rf /var/lib/apt/lists");
    const plain = dockerfileOf(plan, "plain");
    expect(plain).not.toContain("--mount");
    expect(plain).toContain("RUN pip install --no-cache-dir --default-timeout=60 -r /app/.zenml_user_requirements");
    expect(plain).toContain("apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*");
  });

  it("mounts secrets for the one install that needs them, and refuses them in plain mode", () => {
    const secret = { id: "pypi", target: "/run/secrets/pypi", env: "PIP_INDEX_URL" };
    const plan = imagePlan(
      [{ kind: "requirements", origin: "user", file: ".zenml_user_requirements", dest: "/app/.zenml_user_requirements", installer, secrets: [secret], lines: [] }],
      { secrets: [{ id: "pypi", source: { env: "PRIVATE_INDEX" } }] },
    );
    expect(dockerfileOf(plan)).toContain(
      'RUN --mount=type=cache,id=pip-cache,target=/root/.cache/pip,sharing=shared --mount=type=secret,id=pypi,target=/run/secrets/pypi,required=true PIP_INDEX_URL="$(cat /run/secrets/pypi)" pip install',
    );
    expect(dockerfileOf(plan)).not.toMatch(/ARG|ENV/);
    const plain = emitDockerfile(plan, { mode: "plain" });
    expect(plain.files).toEqual([]);
    expect(plain.diagnostics[0]).toMatchObject({ code: "UNSUPPORTED_BY_BACKEND", severity: "error" });
  });

  it("emits no syntax line unless asked", () => {
    expect(dockerfileOf(imagePlan([]))).not.toContain("# syntax");
    const text = String(emitDockerfile(imagePlan([]), { syntax: "docker/dockerfile:1" }).files[0]?.contents);
    expect(text.startsWith("# syntax=docker/dockerfile:1\nFROM ")).toBe(true);
  });

  it("entrypoint arguments with line breaks stay one JSON line", () => {
    const text = dockerfileOf(imagePlan([], { config: { entrypoint: ["sh", "-c", "echo 1\necho 2"], labels: [] } }));
    expect(text).toContain('ENTRYPOINT ["sh","-c","echo 1\\necho 2"]');
  });

  it("prints a user command Docker's parser would read differently in exec form, `<` escaped", () => {
    const run = (shell: string) => dockerfileOf(imagePlan([{ kind: "run", purpose: "p", shell }])).split("\n").at(-2);
    expect(run("pip install -e .")).toBe("RUN pip install -e .");
    // RUN flags, exec form, a heredoc that would swallow the next instructions, whitespace Go trims.
    expect(run("--network=host id")).toBe('RUN ["/bin/sh","-c","--network=host id"]');
    expect(run('["id"]')).toBe('RUN ["/bin/sh","-c","[\\"id\\"]"]');
    expect(run("\\ --network=host")).toBe('RUN ["/bin/sh","-c","\\\\ --network=host"]');
    expect(run("cat <<EOF")).toBe('RUN ["/bin/sh","-c","cat \\u003c\\u003cEOF"]');
    expect(run("id \u0085")).toBe('RUN ["/bin/sh","-c","id \u0085"]');
    const text = dockerfileOf(imagePlan([{ kind: "run", purpose: "p", shell: "cat <<EOF" }, { kind: "user", name: "zenml" }]));
    expect(DockerfileParser.parse(text).getInstructions().map((i) => i.getKeyword())).toEqual(["FROM", "WORKDIR", "RUN", "USER"]);
  });

  it("refuses a line longer than Docker's parser reads (64 KiB)", () => {
    const plan = imagePlan([{ kind: "env", vars: [["BIG", ["'".repeat(65_535 - 'ENV BIG=""'.length)]]] }]);
    expect(emitDockerfile(plan).diagnostics).toEqual([]);
    const artifacts = emitDockerfile(imagePlan([{ kind: "env", vars: [["BIG", ["$".repeat(40_000)]]] }]));
    expect(artifacts.files).toEqual([]);
    expect(artifacts.diagnostics[0]).toMatchObject({ code: "UNSUPPORTED_BY_BACKEND", severity: "error", message: expect.stringContaining("80010 bytes once quoted") });
  });

  it("refuses a line break that core should have rejected, instead of starting an instruction", () => {
    expect(() => emitDockerfile(imagePlan([{ kind: "env", vars: [["A", ["x\nRUN evil"]]] }]))).toThrow(/line break/);
  });

  it("writes the generated files next to the Dockerfile; nothing for skip_build", () => {
    expect(emitDockerfile(imagePlan([])).files.map((f) => f.path)).toEqual(["Dockerfile", ".zenml_user_requirements"]);
    expect(emitDockerfile(imagePlan([], { mode: "use-parent" })).files).toEqual([]);
  });
});
