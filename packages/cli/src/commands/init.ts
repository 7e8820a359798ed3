/**
 * `dockwright init`: a commented starter run configuration for the current folder, naming the
 * requirements file or pyproject.toml it finds there. Never overwrites a file.
 */
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { printable } from "@dockwright/core/diagnostics";
import { invalidInput, parseFlags } from "../args.js";
import { findRoot } from "../context.js";
import { exitCodes, type Command } from "../io.js";

const help = `Usage: dockwright init [CONFIG]

Writes a commented starter run configuration CONFIG (default: pipeline.yaml)
into the current folder, naming the requirements.txt or pyproject.toml it finds
there. Image tags take the file's name. An existing file is never overwritten.

Options:
  -h, --help             this help
`;

export const initCommand: Command = async (args, io) => {
  const parsed = parseFlags(args, {}, help, io);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length > 1) return invalidInput(io, `init takes at most one CONFIG file name, got ${parsed.positionals.length}.`);
  const name = parsed.positionals[0] ?? "pipeline.yaml";
  if (!/\.ya?ml$/i.test(name)) return invalidInput(io, `${JSON.stringify(name)} is no YAML file name; init writes YAML. Name a .yaml file.`);
  const file = path.resolve(io.cwd, name);
  const root = await findRoot(path.dirname(file));
  if (typeof root !== "string") return invalidInput(io, root.message);

  // Settings name files relative to the configuration's folder, as ZenML to its working directory.
  const relative = (found: string) => path.relative(path.dirname(file), path.join(io.cwd, found)).split(path.sep).join("/");
  const requirements = (await isFile(path.join(io.cwd, "requirements.txt"))) ? relative("requirements.txt") : undefined;
  const pyproject = (await isFile(path.join(io.cwd, "pyproject.toml"))) ? relative("pyproject.toml") : undefined;
  try {
    await writeFile(file, starter(path.basename(name), { requirements, pyproject }), { flag: "wx" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return invalidInput(io, `${JSON.stringify(name)} exists and is left as it is. Pass another file name: \`dockwright init other.yaml\`.`);
    return invalidInput(io, `cannot write ${JSON.stringify(name)} (${code ?? (e as Error).message}).`);
  }
  const chosen = requirements ? ` (requirements: ${requirements})` : pyproject ? ` (pyproject_path: ${pyproject})` : "";
  io.stdout(`${printable(`wrote ${name}${chosen}; compile it with \`dockwright compile ${name}\`.`)}\n`);
  if (root !== path.dirname(file)) io.stdout(`${printable(`The source root, whose files go into the image, is ${root} (it holds .zen).`)}\n`);
  return exitCodes.ok;
};

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false);
}

/** The starter text: every common setting, commented out unless this folder suggests its value. */
function starter(name: string, found: { requirements: string | undefined; pyproject: string | undefined }): string {
  const requirements = found.requirements
    ? `    requirements: ${found.requirements}    # found in this folder`
    : `    # requirements: requirements.txt`;
  const pyproject = found.pyproject && !found.requirements
    ? `    pyproject_path: ${found.pyproject}    # found in this folder`
    : `    # pyproject_path: ${found.pyproject ?? "pyproject.toml"}${found.pyproject ? "    # found in this folder; requirements.txt is used instead" : ""}`;
  const tag = name.replace(/\.ya?ml$/i, "");
  return `# A Dockwright run configuration: the Docker settings of a ZenML pipeline, in ZenML's run
# configuration shape. \`dockwright compile ${name}\` writes a Dockerfile, a Buildah script and
# BuildKit LLB for each image; \`dockwright schema\` describes every setting.
#
# Image tags take this file's name (zenml:${tag}-orchestrator): rename the file after your
# pipeline, or pass --pipeline NAME.
settings:
  docker:
    # The image to build on. Default: ZenML's image for the Python version (--python).
    # parent_image: python:3.11-slim

    # Python requirements: a file (relative to this file's folder), or a list such as ["torch==2.3.1"].
${requirements}
    # A pyproject.toml whose dependencies are exported (uv or poetry) and installed.
${pyproject}

    # ZenML integrations whose requirements are installed, e.g. [sklearn, pytorch].
    # required_integrations: []

    # Debian packages, installed with apt-get.
    # apt_packages: [libgomp1]

    # Environment variables of the image.
    # environment:
    #   PYTHONUNBUFFERED: "1"

    # Where the code comes from at run time, as ZenML decides: the registered code repository
    # (code_repository below) when it is clean and pushed, else an archive the run downloads from
    # the artifact store (upload it with --code-upload DIR), else the files in the image. Here:
    # the files in the image.
    allow_download_from_artifact_store: false
    # allow_download_from_code_repository: true
    # allow_including_files_in_images: true

# Steps that need settings of their own; they are merged over the pipeline's.
# steps:
#   trainer:
#     settings:
#       docker:
#         required_integrations: [pytorch]

# The stack the pipeline runs on: its components' flavors add their integrations. ZenML builds
# images only for orchestrators that run steps in containers (not for \`local\`).
# stack:
#   components:
#     - { type: orchestrator, flavor: kubernetes }
#     - { type: container_registry, flavor: default, uri: registry.example.com/team }

# The git repository the code is downloaded from, as registered in ZenML.
# code_repository: { type: github, url: https://github.com/org/repo }
`;
}
