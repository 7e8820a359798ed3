/**
 * The environment lines of an image, as the release writes them: the client's logging-colour
 * flag, the user's variables (upper-cased, in the order given, each value as Python prints it and
 * as Docker then reads the line), ZenML's own variables after the installs, and from 0.91.1 the
 * runtime variables after `USER`.
 */
import { looksSecret } from "../credentials.js";
import { codes, error, show, warning } from "../diagnostics.js";
import { dockerEnvValue } from "../dockerenv.js";
import type { EnvValue, Layer } from "../ir.js";
import { pythonStr } from "../python.js";
import { formatPath } from "../settings.js";
import { checkEnvName, checkSingleLine } from "../validate.js";
import type { ImageInput } from "./input.js";

export const workdir = "/app";
/** Where ZenML keeps its configuration in the image. */
const configPath = `${workdir}/.zenconfig`;

export type EnvironmentLayers = {
  /** Before the installs: the logging flag and the user's `environment`. */
  build?: Layer;
  /** After the installs, before the sources: ZenML's own variables. */
  zenml: Layer;
  /** After `USER`: `runtime_environment`. */
  runtime?: Layer;
};

export function environmentStage(input: ImageInput, downloadsCode: boolean): EnvironmentLayers {
  const { rules, settings: s } = input;
  const build: [string, EnvValue][] = [];
  if (rules.fixedEnvironment.loggingColors) {
    build.push(["ZENML_LOGGING_COLORS_DISABLED", [pythonBool(input.clientEnvironment["ZENML_LOGGING_COLORS_DISABLED"]) ? "True" : "False"]]);
  }
  build.push(...userVariables(input, "environment", s.environment));
  const zenml: [string, EnvValue][] = [["ZENML_ENABLE_REPO_INIT_WARNINGS", ["False"]]];
  if (rules.fixedEnvironment.codeDownload && downloadsCode) zenml.push(["ZENML_REQUIRES_CODE_DOWNLOAD", ["True"]]);
  zenml.push(["ZENML_CONFIG_PATH", [configPath]]);
  const runtime = userVariables(input, "runtime_environment", s.runtime_environment ?? {});
  return {
    ...(build.length > 0 ? { build: { kind: "env", vars: build } } : {}),
    zenml: { kind: "env", vars: zenml },
    ...(runtime.length > 0 ? { runtime: { kind: "env", vars: runtime } } : {}),
  };
}

/** ZenML's `handle_bool_env_var(..., default=False)`. */
function pythonBool(value: string | undefined): boolean {
  return value !== undefined && ["1", "y", "yes", "True", "true"].includes(value);
}

function userVariables(input: ImageInput, field: "environment" | "runtime_environment", values: Record<string, unknown>): [string, EnvValue][] {
  const { out, base, rules } = input;
  const vars: [string, EnvValue][] = [];
  const seen = new Map<string, string>();
  for (const [name, raw] of Object.entries(values)) {
    const at = formatPath(base, [field, name]);
    const upper = name.toUpperCase();
    const invalidName = checkEnvName(upper, at);
    if (invalidName) {
      out.push(invalidName);
      continue;
    }
    if (upper.startsWith("DOCKWRIGHT_")) {
      // A helper of the Buildah script lives there.
      out.push(error(codes.INVALID_ENV_NAME, at, `${show(name)} starts with DOCKWRIGHT_, a prefix Dockwright reserves for its own variables. Rename it.`));
      continue;
    }
    const text = pythonStr(raw);
    const unsafe = checkSingleLine(text, at, "a Dockerfile ENV line");
    if (unsafe) {
      out.push(unsafe);
      continue;
    }
    const written = rules.environmentQuoting === "single-quoted" ? `'${text}'` : text;
    const parsed = dockerEnvValue(upper, written);
    if ("problem" in parsed) {
      out.push(error(codes.UNSAFE_VALUE, at,
        `ZenML ${rules.release} writes this value as \`ENV ${upper}=${written}\`, and Docker cannot build that: ${parsed.problem}. ` +
          (rules.environmentQuoting === "single-quoted" ? "Remove the single quote from the value." : "Quote or escape the value as a Dockerfile would (`\"a b\"`), or remove the blank.")));
      continue;
    }
    const reference = rules.environmentQuoting === "single-quoted" ? /\$\{?([A-Za-z_]\w*)/.exec(text) : null;
    if (reference) {
      out.push(warning(codes.UNSAFE_VALUE, at,
        `\`$${reference[1]}\` stays text: ZenML ${rules.release} writes the value in single quotes, where Docker expands no variable, so ${upper} holds \`${text}\` as is. ` +
          "Write the value out in full (for PATH: the parent's directories too), or use a release before 0.74, which lets Docker expand it."));
    }
    if (looksSecret(upper) && text !== "") {
      out.push(warning(codes.SECRET_IN_ENVIRONMENT, at,
        `${upper} looks like a credential, and an environment value is stored in the image for anyone who pulls it. ` +
          "Pass it as a build secret instead: `secrets: [{id, source_env, env}]` reaches only the install commands."));
    }
    const earlier = seen.get(upper);
    if (earlier !== undefined) {
      out.push(warning(codes.DUPLICATE_ENV_NAME, at,
        `${show(name)} and ${show(earlier)} both become ${upper} (ZenML upper-cases names), so this later value wins, as in ZenML. Keep one of them.`));
    }
    seen.set(upper, name);
    vars.push([upper, parsed.value]);
  }
  return vars;
}
