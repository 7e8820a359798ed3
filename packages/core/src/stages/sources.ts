/**
 * The sources of an image and what ZenML does after copying them: `COPY . .` (only the generated
 * files when the code is not included), `chmod -R a+rw .`, the local project's install command,
 * `chown -R <user> .`. Dockwright copies with `--chown` and stages the context writable, so the
 * permissions layer finds nothing of the context left to change and no file is stored twice.
 */
import { codes, error } from "../diagnostics.js";
import type { ContextSnapshot, Layer, SourceDecision } from "../ir.js";
import { formatPath } from "../settings.js";
import { checkPathSetting, checkShellCommand, checkUser } from "../validate.js";
import type { ImageInput } from "./input.js";

export type Sources = { layers: Layer[]; snapshot?: ContextSnapshot; dockerignore: string[] };

export async function sourcesStage(input: ImageInput, decision: SourceDecision, afterSources: Layer[]): Promise<Sources> {
  const { settings: s, base, out, host } = input;
  const at = (...path: string[]) => formatPath(base, path);
  const user = s.user ?? undefined;
  if (user !== undefined) {
    const invalid = checkUser(user, at("user"));
    if (invalid) out.push(invalid);
  }
  // The copied files are owned by the user and keep root's group, as after `chown -R <user> .`.
  const owner = user === undefined ? undefined : user.includes(":") ? user : `${user}:0`;
  const layers: Layer[] = [];
  let snapshot: ContextSnapshot | undefined;
  let dockerignore: string[] = [];
  if (decision.mode === "include") {
    const fromBuildConfig = s.build_config?.dockerignore ?? undefined;
    const file = fromBuildConfig ?? s.dockerignore ?? undefined;
    const settingPath = fromBuildConfig !== undefined ? at("build_config", "dockerignore") : at("dockerignore");
    if (file !== undefined) {
      const invalid = checkPathSetting(file, settingPath, "a .dockerignore file");
      if (invalid) out.push(invalid);
    }
    const context = await host.context(file, settingPath);
    out.push(...context.diagnostics);
    snapshot = context.snapshot;
    dockerignore = context.patterns;
    layers.push(owner ? { kind: "sources", chown: owner } : { kind: "sources" });
    layers.push(...afterSources);
  } else if (afterSources.length > 0) {
    const where = afterSources.flatMap((l) => (l.kind === "requirements" ? l.lines.flatMap((line) => line.from) : [])).join(", ");
    out.push(error(codes.INSTALL_COMMAND_WITHOUT_FILES, at("allow_including_files_in_images"),
      `requirements that point at local paths (${where}) are installed from the source files, but this image does not include them. ` +
        "Include the files (`allow_including_files_in_images: true`, and no download), or install those packages from an index."));
  }

  const command = s.local_project_install_command ?? undefined;
  if (command === undefined) {
    layers.push(owner ? { kind: "permissions", writable: true, owner } : { kind: "permissions", writable: true });
  } else {
    const invalid = checkShellCommand(command, at("local_project_install_command"));
    if (invalid) out.push(invalid);
    // ZenML runs the command after `chmod` and before `chown`: what it creates is owned, not opened up.
    layers.push({ kind: "permissions", writable: true });
    layers.push({ kind: "run", purpose: "local_project_install_command", shell: command });
    if (owner) layers.push({ kind: "permissions", writable: false, owner });
  }
  if (user !== undefined) layers.push({ kind: "user", name: user });
  return { layers, ...(snapshot ? { snapshot } : {}), dockerignore };
}
