/**
 * The parent of an image: a user Dockerfile (built first, with its own context and options), the
 * `parent_image`, or the preset's default (`zenmldocker/zenml:<release>-py<X.Y>`).
 */
import { codes, error, show, warning } from "../diagnostics.js";
import type { ParentImage } from "../ir.js";
import { formatPath } from "../settings.js";
import { checkImageRef, checkPathSetting } from "../validate.js";
import { readBuildOptions } from "./options.js";
import type { ImageInput } from "./input.js";

export type Parent = { parent: Exclude<ParentImage, { kind: "plan" }>; isDefault: boolean };

export async function parentStage(input: ImageInput): Promise<Parent> {
  const { settings: s, base, out, host, rules } = input;
  const at = (...path: string[]) => formatPath(base, path);
  if (s.dockerfile != null) {
    if (s.parent_image != null) {
      out.push(warning(codes.SETTING_IGNORED, at("parent_image"),
        `${show(s.parent_image)} is ignored because \`dockerfile\` is set: the image built from the Dockerfile is the parent. Remove one of them.`));
    }
    const invalid = checkPathSetting(s.dockerfile, at("dockerfile"), "a Dockerfile");
    const text = invalid ? undefined : await host.readFile(s.dockerfile, at("dockerfile"));
    if (invalid) out.push(invalid);
    else if (text === undefined) {
      out.push(error(codes.FILE_NOT_FOUND, at("dockerfile"), `the Dockerfile ${show(host.resolve(s.dockerfile))} does not exist. Fix the path (relative paths start at ${show(host.base)}).`));
    }
    if (s.build_context_root != null) {
      const path = at("build_context_root");
      const bad = checkPathSetting(s.build_context_root, path, "a build context folder");
      if (bad) out.push(bad);
      else if (host.folder && !(await host.folder(s.build_context_root, path))) {
        out.push(error(codes.FILE_NOT_FOUND, path, `the folder ${show(host.resolve(s.build_context_root))} does not exist. Fix the path (relative paths start at ${show(host.base)}).`));
      }
    }
    const config = s.parent_image_build_config ?? {};
    const fromConfig = Object.keys(config.build_options ?? {}).length > 0 || rules.deprecatedBuildOptions === "ignored";
    const options = readBuildOptions(fromConfig ? (config.build_options ?? {}) : s.build_options,
      fromConfig ? at("parent_image_build_config", "build_options") : at("build_options"), out);
    const dockerignore = config.dockerignore ?? undefined;
    if (dockerignore !== undefined) {
      const path = at("parent_image_build_config", "dockerignore");
      const bad = checkPathSetting(dockerignore, path, "a .dockerignore file");
      if (bad) out.push(bad);
      else if ((await host.readFile(dockerignore, path)) === undefined) {
        out.push(error(codes.FILE_NOT_FOUND, path, `the .dockerignore file ${show(host.resolve(dockerignore))} does not exist. Fix the path.`));
      }
    }
    return {
      parent: {
        kind: "dockerfile",
        path: s.dockerfile,
        dockerfile: text ?? "",
        ...(s.build_context_root != null ? { contextRoot: s.build_context_root } : {}),
        buildOptions: options,
        ...(dockerignore !== undefined ? { dockerignore } : {}),
      },
      isDefault: false,
    };
  }
  // These configure the build of `dockerfile` only; ZenML ignores them silently without one.
  const forDockerfile = {
    build_context_root: s.build_context_root != null,
    build_options: Object.keys(s.build_options ?? {}).length > 0,
    parent_image_build_config: s.parent_image_build_config != null,
  };
  for (const [key, set] of Object.entries(forDockerfile)) {
    if (set) out.push(warning(codes.SETTING_IGNORED, at(key), `\`${key}\` configures the build of \`dockerfile\`, which is not set, so it is ignored. Remove it, or set \`dockerfile\`.`));
  }
  if (s.parent_image != null) {
    const invalid = checkImageRef(s.parent_image, at("parent_image"));
    if (invalid) out.push(invalid);
    return { parent: { kind: "image", ref: s.parent_image }, isDefault: false };
  }
  const ref = input.hooks.parentImage.call(undefined, { pythonVersion: input.pythonVersion, platform: input.platform });
  if (ref === undefined) {
    out.push(error(codes.NO_PARENT_IMAGE, at("parent_image"),
      "no parent image: set `parent_image` (e.g. `python:3.11-slim`) or `dockerfile`, or use a preset plugin that chooses a default (the ZenML plugin)."));
    return { parent: { kind: "image", ref: "scratch" }, isDefault: true };
  }
  return { parent: { kind: "image", ref }, isDefault: true };
}
