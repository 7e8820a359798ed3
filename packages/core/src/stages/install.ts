/**
 * What an image installs, gathered as the release's `gather_requirements_files` does: one file per
 * origin in the release's order, each with ZenML's contents (command output and user files as
 * they are, integration sets sorted), the apt packages, the installer and its flags.
 */
import { posix } from "node:path";
import { codes, error, show, warning, type Diagnostic } from "../diagnostics.js";
import type { Installer, Layer, RequirementsOrigin, SecretMount, BuildSecret } from "../ir.js";
import { pythonStr } from "../python.js";
import { compareCodePoints } from "../strings.js";
import { loadIncludes, resolveRequirements, type RequirementSource, type ResolvedFile } from "../requirements.js";
import { fieldExists, formatPath } from "../settings.js";
import { checkAptPackage, checkEnvName, checkInstallerArg, checkMountTarget, checkPathSetting, checkRequirementLine, checkSecretId, checkSingleLine } from "../validate.js";
import type { ImageInput } from "./input.js";
import { closestIntegrations, integrationClosure } from "./integrations.js";

/** Generated requirements files, named as the reference system names them. */
export const requirementFiles: Record<RequirementsOrigin, string> = {
  local: ".zenml_local_requirements",
  pyproject: ".zenml_pyproject_requirements",
  user: ".zenml_user_requirements",
  integrations: ".zenml_integration_requirements",
  stack: ".zenml_stack_integration_requirements",
};

export type Install = {
  files: ResolvedFile[];
  apt: string[];
  installer: Installer;
  secrets: BuildSecret[];
  mounts: SecretMount[];
};

export async function installStage(input: ImageInput, downloadsFromRepository: boolean): Promise<Install> {
  const { settings: s, base, out, rules } = input;
  const at = (...path: (string | number)[]) => formatPath(base, path);
  const texts = new Map<RequirementsOrigin, RequirementSource>();

  let requirements = s.requirements;
  let pyproject = s.pyproject_path ?? undefined;
  let requirementsFrom = at("requirements");
  if (fieldExists("disable_automatic_requirements_detection", rules) && !s.replicate_local_python_environment && !nonEmpty(requirements) && !pyproject) {
    // ZenML looks for these in the source root; until detection is enabled it only warns.
    const detected = (await exists(input, `${input.host.root}/requirements.txt`)) ? "requirements.txt" : (await exists(input, `${input.host.root}/pyproject.toml`)) ? "pyproject.toml" : undefined;
    if (detected && s.disable_automatic_requirements_detection) {
      out.push(warning(codes.SETTING_IGNORED, at("disable_automatic_requirements_detection"),
        `the source root holds ${detected}, which is not installed while \`disable_automatic_requirements_detection\` is true (the default). Set it to false to install it, or name it in \`requirements\` / \`pyproject_path\`.`));
    } else if (detected === "requirements.txt") {
      [requirements, requirementsFrom] = [fromBase(input, "requirements.txt"), at("disable_automatic_requirements_detection")];
    } else if (detected === "pyproject.toml") pyproject = fromBase(input, "pyproject.toml");
  }

  const replicate = s.replicate_local_python_environment;
  if (replicate !== undefined && replicate !== null && replicate !== false) {
    const path = at("replicate_local_python_environment");
    const command = Array.isArray(replicate) ? replicate.join(" ") : replicate === true ? rules.exportCommands.pip_freeze : rules.exportCommands[replicate];
    const method = replicate === true ? "pip_freeze" : typeof replicate === "string" ? replicate : undefined;
    const text = await localEnvironment(input, { kind: "replicate", command, ...(method ? { method } : {}), cwd: input.host.base, root: input.host.root, path });
    texts.set("local", { origin: "local", text, from: path });
  }

  if (s.install_stack_requirements) {
    const stack = new Set(input.stack.requirements);
    const repository = input.code.repository;
    if (downloadsFromRepository && repository) {
      const info = input.flavors.get("code_repository")?.get(repository.type);
      if (info?.integration) integrationClosure(input.integrations, [info.integration], () => undefined).requirements.forEach((r) => stack.add(r));
    }
    if (stack.size > 0) texts.set("stack", { origin: "stack", text: sortedSet(stack), from: "the stack's components" });
  }

  const required = new Set<string>();
  const requiredApt: string[] = [];
  s.required_integrations.forEach((name, index) => {
    const closure = integrationClosure(input.integrations, [name], () => {
      const close = closestIntegrations(input.integrations, name);
      out.push(error(codes.UNKNOWN_INTEGRATION, at("required_integrations", index),
        `ZenML ${rules.release} has no integration ${show(name)}${close.length > 0 ? `; the closest are ${close.map((c) => `\`${c}\``).join(", ")}` : ""}. Check the name, or add a plugin that provides it.`));
    });
    closure.requirements.forEach((r) => required.add(r));
    requiredApt.push(...closure.apt);
  });
  if (!rules.installOrder.includes("stack")) {
    // Before 0.61 the stack's requirements join the integrations' file.
    const stack = texts.get("stack");
    texts.delete("stack");
    stack?.text.split("\n").forEach((r) => required.add(r));
  }
  if (required.size > 0) texts.set("integrations", { origin: "integrations", text: sortedSet(required), from: "required_integrations" });

  if (pyproject !== undefined) {
    const path = at("pyproject_path");
    const invalid = checkPathSetting(pyproject, path, "a pyproject.toml");
    if (invalid) out.push(invalid);
    else if (!(await exists(input, pyproject, path))) {
      out.push(error(codes.FILE_NOT_FOUND, path, `the pyproject file ${show(input.host.resolve(pyproject))} does not exist. Fix the path (relative paths start at ${show(input.host.base)}).`));
    } else {
      const directory = posix.dirname(input.host.resolve(pyproject));
      const commands = (s.pyproject_export_command ? [s.pyproject_export_command.join(" ")] : rules.exportCommands.pyproject).map((c) => c.replaceAll("{directory}", directory));
      const text = await localEnvironment(input, { kind: "pyproject", commands, pyproject: input.host.resolve(pyproject), cwd: input.host.base, root: input.host.root, path });
      texts.set("pyproject", { origin: "pyproject", text, from: path });
    }
  }

  if (typeof requirements === "string") {
    const invalid = checkPathSetting(requirements, requirementsFrom, "a requirements file");
    const text = invalid ? undefined : await input.host.readFile(requirements, requirementsFrom);
    if (invalid) out.push(invalid);
    else if (text === undefined) {
      out.push(error(codes.FILE_NOT_FOUND, requirementsFrom,
        `the requirements file ${show(input.host.resolve(requirements))} does not exist. Fix the path (relative paths start at ${show(input.host.base)}), or give the requirements as a list.`));
    } else if (text !== "") texts.set("user", { origin: "user", text, from: requirementsFrom, file: requirements });
  } else if (Array.isArray(requirements) && requirements.length > 0) {
    requirements.forEach((line, i) => {
      const problem = checkRequirementLine(line, at("requirements", i));
      if (problem) out.push(problem);
    });
    const text = requirements.join("\n");
    if (text !== "") texts.set("user", { origin: "user", text, from: at("requirements"), linePaths: requirements.map((_, i) => at("requirements", i)) });
  }

  const sources = rules.installOrder.flatMap((origin) => texts.get(origin) ?? []);
  const includes = await loadIncludes(sources, (path, from) => input.host.readFile(path, from));
  const resolved = resolveRequirements(sources, { pythonVersion: input.pythonVersion, platform: input.platform }, includes);
  out.push(...resolved.diagnostics);

  s.apt_packages.forEach((name, i) => {
    const problem = checkAptPackage(name, at("apt_packages", i));
    if (problem) out.push(problem);
  });
  const apt = [...s.apt_packages, ...(s.install_stack_requirements ? input.stack.apt : []), ...(rules.requiredIntegrationApt ? requiredApt : [])];
  const { secrets, mounts } = secretsOf(input);
  return { files: resolved.files, apt: [...new Set(apt)].sort(), installer: installerOf(input), secrets, mounts };
}

function nonEmpty(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "" && !(Array.isArray(value) && value.length === 0);
}

async function exists(input: ImageInput, path: string, settingPath = formatPath(input.base, ["disable_automatic_requirements_detection"])): Promise<boolean> {
  return (await input.host.readFile(path, settingPath)) !== undefined;
}

/** `"\n".join(sorted(set(...)))`, as ZenML writes integration and stack requirements. */
function sortedSet(lines: Iterable<string>): string {
  return [...new Set(lines)].sort(compareCodePoints).join("\n");
}

async function localEnvironment(input: ImageInput, request: Parameters<ImageInput["hooks"]["localEnvironment"]["promise"]>[0]): Promise<string> {
  const result = await input.hooks.localEnvironment.promise(request);
  if (result === undefined) {
    input.out.push(error(codes.LOCAL_ENVIRONMENT_UNAVAILABLE, request.path,
      "no plugin exports the local Python environment. Add `@dockwright/plugin-local-env` to the compiler's plugins, or remove this setting."));
    return "";
  }
  if ("diagnostics" in result) {
    input.out.push(...result.diagnostics);
    return "";
  }
  return result.requirements;
}

/** Installer flags as ZenML renders them: the release's defaults, the user's merged over them in place. */
function installerOf(input: ImageInput): Installer {
  const { settings: s, base, out, rules } = input;
  const tool = s.python_package_installer;
  const flags = new Map<string, unknown>(rules.installerDefaults[tool]);
  for (const [name, value] of Object.entries(s.python_package_installer_args ?? {})) flags.set(name, value);
  const args: string[] = [];
  let noCache = false;
  for (const [name, value] of flags) {
    const at = formatPath(base, ["python_package_installer_args", name]);
    // ZenML writes `--name=<Python text>` unquoted: a list or map splits into stray words and a
    // boolean gives `--name=True`; pip and uv refuse both, so the image would never build.
    if (typeof value === "boolean" || (typeof value === "object" && value !== null)) {
      out.push(error(codes.INVALID_INSTALLER_ARG, at, typeof value === "boolean"
        ? `\`--${name}=${value ? "True" : "False"}\` is what ZenML would pass, and pip and uv refuse a value for a switch. Write \`${name}: null\` for the bare flag \`--${name}\`, or remove it.`
        : `a ${Array.isArray(value) ? "list" : "map"} is passed as its Python text, which the shell splits into stray words. Give one value as text; for a flag you need more than once (\`--extra-index-url\`), write its lines in a requirements file.`));
      continue;
    }
    const text = value === null ? null : pythonStr(value);
    const problem = checkInstallerArg(name, text, at);
    if (problem) {
      out.push(problem);
      continue;
    }
    if (text !== null && /[\s$`"'\\;&|<>()*?[\]~#]/.test(text)) {
      out.push(warning(codes.UNSAFE_VALUE, at,
        `ZenML passes \`--${name}=${text}\` to the shell unquoted, which would expand or split it; Dockwright passes it as it is written. Write the value the shell would have produced.`));
    }
    if (name === "no-cache-dir" && text === null) noCache = true;
    else args.push(text === null ? `--${name}` : `--${name}=${text}`);
  }
  return { tool, args, noCache };
}

function secretsOf(input: ImageInput): { secrets: BuildSecret[]; mounts: SecretMount[] } {
  const { settings: s, base, out } = input;
  const secrets: BuildSecret[] = [];
  const mounts: SecretMount[] = [];
  const ids = new Set<string>();
  s.secrets.forEach((secret, i) => {
    const at = (key: string) => formatPath(base, ["secrets", i, key]);
    const problems = [
      checkSecretId(secret.id, at("id")),
      ids.has(secret.id) ? error(codes.INVALID_VALUE, at("id"), `the secret id ${show(secret.id)} is used twice; give each secret its own id.`) : undefined,
      (secret.source_env == null) === (secret.source_file == null)
        ? error(codes.INVALID_VALUE, formatPath(base, ["secrets", i]), "a secret needs exactly one source: `source_env` (a variable of the building machine) or `source_file` (a file there).")
        : undefined,
      secret.source_env != null ? checkEnvName(secret.source_env, at("source_env")) : undefined,
      secret.source_file != null ? checkPathSetting(secret.source_file, at("source_file"), "a secret file") : undefined,
      secret.env != null ? checkEnvName(secret.env, at("env")) : undefined,
      secret.target != null ? checkMountTarget(secret.target, at("target")) : undefined,
    ].filter((d): d is Diagnostic => d !== undefined);
    ids.add(secret.id);
    if (problems.length > 0) return void out.push(...problems);
    secrets.push({ id: secret.id, source: secret.source_env != null ? { env: secret.source_env } : { file: secret.source_file! } });
    mounts.push({ id: secret.id, target: secret.target ?? `/run/secrets/${secret.id}`, ...(secret.env ? { env: secret.env } : {}) });
  });
  return { secrets, mounts };
}

/** The install layers: apt, the installer, then one requirements layer per file installed before the sources. */
export function installLayers(install: Install, workdir: string): { before: Layer[]; generated: { path: string; contents: string }[]; afterSources: Layer[] } {
  const before: Layer[] = [];
  const afterSources: Layer[] = [];
  const generated: { path: string; contents: string }[] = [];
  if (install.apt.length > 0) before.push({ kind: "apt", packages: install.apt });
  if (install.installer.tool === "uv") before.push({ kind: "installer", tool: "uv", secrets: install.mounts });
  for (const file of install.files) {
    // Local paths are installed from the copied sources, from a file of their own.
    const name = file.afterSources ? requirementFiles[file.origin].replace(/_requirements$/, "_path_requirements") : requirementFiles[file.origin];
    generated.push({ path: name, contents: file.text });
    (file.afterSources ? afterSources : before).push({
      kind: "requirements", origin: file.origin, file: name, dest: `${workdir}/${name}`, installer: install.installer, secrets: install.mounts, lines: file.lines,
    });
  }
  return { before, generated, afterSources };
}

/** A file of the source root as a path from the settings' base: what messages and plans show is the same on every machine. */
function fromBase(input: ImageInput, name: string): string {
  return posix.relative(input.host.base, `${input.host.root}/${name}`);
}
