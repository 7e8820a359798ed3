/**
 * Checks of single values that reach a Dockerfile, a shell script or LLB. A value that cannot be
 * written safely for every backend is rejected here, with the reason, instead of being escaped
 * into something else.
 */
import { holdsCredential } from "./credentials.js";
import { codes, error, show, type Diagnostic } from "./diagnostics.js";
import type { RepositoryState } from "./hooks.js";
import { parseImageRef } from "./reference.js";

/**
 * Control characters other than tab (a newline could start a new instruction), and unpaired
 * UTF-16 surrogates, which no UTF-8 file can hold: they would be written as U+FFFD.
 */
const control = /[\u0000-\u0008\u000a-\u001f\u007f]|\p{Cs}/u;

function hasControlCharacters(value: string): boolean {
  return control.test(value);
}

/** Debian policy: lower case letters, digits, `+`, `-`, `.`; at least two characters, starting alphanumeric. */
const debianPackage = /^[a-z0-9][a-z0-9+.-]+$/;
/** An optional `:arch` and `=version` or `/release`, as apt-get accepts them. */
const aptSpec = /^([a-z0-9][a-z0-9+.-]+)(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+|\/[A-Za-z0-9.+~-]+)?$/;

export function checkAptPackage(name: string, path: string): Diagnostic | undefined {
  if (aptSpec.test(name)) return undefined;
  const reason = debianPackage.test(name.toLowerCase()) && name !== name.toLowerCase()
    ? "Debian package names are lower case"
    : "Debian package names hold only a-z, 0-9, `+`, `-` and `.` (optionally `:arch` and `=version`)";
  return error(codes.INVALID_APT_PACKAGE, path, `${show(name)} is not a Debian package name: ${reason}. Fix the name, e.g. \`libgomp1\`.`);
}

/** POSIX portable environment variable names. */
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkEnvName(name: string, path: string): Diagnostic | undefined {
  if (envName.test(name)) return undefined;
  return error(codes.INVALID_ENV_NAME, path,
    `${show(name)} is not a valid environment variable name: use letters, digits and \`_\`, not starting with a digit.`);
}

/** Text that lands in an instruction must stay on one line. */
export function checkSingleLine(value: string, path: string, what: string): Diagnostic | undefined {
  if (!hasControlCharacters(value)) return undefined;
  return error(codes.UNSAFE_VALUE, path,
    `${show(value, path)} holds a control character (newline, carriage return, NUL, ...) or half a surrogate pair, which ${what} cannot carry: ` +
      "a newline would end the instruction. Remove it.");
}

/** Characters beyond the controls that pip also reads as the end of a line (Python's `str.splitlines()`). */
const pipOnlyLineBreak = /[\u0085\u2028\u2029]/;

/**
 * One requirement of the `requirements` list: a line of the generated file, so nothing pip
 * would read as a line break either (U+0085, U+2028, U+2029 besides the controls), or pip
 * would install a second requirement that no plan names.
 */
export function checkRequirementLine(value: string, path: string): Diagnostic | undefined {
  if (!pipOnlyLineBreak.test(value)) return checkSingleLine(value, path, "a requirements file line");
  return error(codes.UNSAFE_VALUE, path,
    `${show(value, path)} holds U+0085, U+2028 or U+2029, where pip would end the line and read the rest as another requirement. ` +
      "Give each requirement as an entry of its own.");
}

/**
 * A user's shell command for a RUN line: one line, not blank (a Dockerfile cannot say `RUN` with
 * no command), and no trailing `\\`, which would continue it onto the next instruction.
 */
export function checkShellCommand(value: string, path: string): Diagnostic | undefined {
  const problem = checkSingleLine(value, path, "a RUN instruction");
  if (problem) return problem;
  if (value.trim() === "") return error(codes.UNSAFE_VALUE, path, `${show(value)} is not a command. Give one (e.g. \`pip install -e .\`), or remove the setting.`);
  if (!/\\\s*$/.test(value)) return undefined;
  return error(codes.UNSAFE_VALUE, path,
    `${show(value)} ends with a backslash, which would join the next instruction to this command. Remove it.`);
}

/** A user name, UID, or `user:group`, as USER and `--chown` accept them. */
const userSpec = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;

export function checkUser(user: string, path: string): Diagnostic | undefined {
  if (userSpec.test(user) && user.length <= 64) return undefined;
  return error(codes.INVALID_USER, path,
    `${show(user)} is not a user name or UID: use letters, digits, \`_\`, \`-\` and \`.\`, optionally \`:group\`, e.g. \`zenml\` or \`1000:1000\`.`);
}

/** An image reference as Docker reads it (see `reference.ts`). */
export function checkImageRef(ref: string, path: string): Diagnostic | undefined {
  const parsed = parseImageRef(ref);
  if (parsed.ok) return undefined;
  return error(codes.INVALID_IMAGE_REF, path,
    `${show(ref)} is not an image reference (${parsed.problem}): write \`[registry/]name[:tag][@sha256:digest]\` with a lower-case name, e.g. \`python:3.11-slim\`.`);
}

/** Installer flags: `--name` or `--name=value`. */
const flagName = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

export function checkInstallerArg(name: string, value: string | null, path: string): Diagnostic | undefined {
  if (!flagName.test(name)) {
    return error(codes.INVALID_INSTALLER_ARG, path,
      `${show(name)} is not a flag name: write it without leading dashes, letters, digits and \`-\` only (e.g. \`no-deps\`).`);
  }
  if (value !== null && holdsCredential(value)) return installerArgCredential(name, value, path);
  return value === null ? undefined : checkSingleLine(value, path, "an installer argument");
}

/** The variables pip and uv read an option from (pip reads every option as PIP_<NAME>). */
const uvVariables: Record<string, string> = { "index-url": "UV_INDEX_URL", "extra-index-url": "UV_EXTRA_INDEX_URL", "find-links": "UV_FIND_LINKS" };

/**
 * Installer arguments are written into every install command: a credential there would be stored
 * in the image history, the LLB and plan.json. The fix moves the whole value into a build secret
 * that the install command exposes as the installer's own variable.
 */
function installerArgCredential(name: string, value: string, path: string): Diagnostic {
  const pip = `PIP_${name.toUpperCase().replaceAll("-", "_")}`;
  const uv = Object.hasOwn(uvVariables, name) ? uvVariables[name] : undefined;
  return error(codes.CREDENTIAL_IN_URL, path,
    `${show(value)} holds a credential in a URL, and installer arguments are written into every install command, which the image history, the LLB and plan.json keep. ` +
      `Remove \`${name}\` here and pass the URL as a build secret that the installer reads from its environment: ` +
      `\`secrets: [{id: ${name}, source_env: ${pip}, env: ${pip}}]\`${uv ? ` (with uv: \`env: ${uv}\`)` : ""}, with ${pip} set to the URL where the image is built.`);
}

/**
 * Why a code repository's answer cannot be written into the image's download variables (none:
 * it can): each value goes into an ENV line, one line each.
 */
export function repositoryProblems(repository: RepositoryState): string[] {
  const problems: string[] = [];
  const values: [string, string][] = [["remote URL", repository.url], ["subdirectory", repository.subdirectory], ["commit", repository.commit]];
  for (const [what, value] of values) {
    if (hasControlCharacters(value) || /[\u0085\u2028\u2029]/.test(value)) problems.push(`the repository's ${what} ${show(value)} holds a line break or another control character`);
  }
  if (holdsCredential(repository.url)) problems.push(`the repository's remote URL ${show(repository.url)} holds a credential, which the image would keep`);
  return problems;
}

/**
 * A path that names a file of the source root. Only its form is checked here; whether it stays
 * inside the root is the host's check, since only the host knows the file system.
 */
export function checkPathSetting(value: string, path: string, what: string): Diagnostic | undefined {
  const problem = value.trim() === "" ? "is empty" : hasControlCharacters(value) ? "holds a control character or half a surrogate pair" : undefined;
  if (!problem) return undefined;
  return error(codes.INVALID_PATH, path,
    `${show(value)} ${problem}; ${what} must be a path inside the source root (e.g. \`requirements.txt\`).`);
}

/**
 * Secret ids as BuildKit, Buildah and LLB all accept them. An id also names a file (the default
 * target `/run/secrets/ID`, the Buildah script's copy), so `.` and `..` are not ids.
 */
export function checkSecretId(id: string, path: string): Diagnostic | undefined {
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(id) && id !== "." && id !== "..") return undefined;
  return error(codes.INVALID_VALUE, path, `${show(id)} is not a secret id: use up to 64 letters, digits, \`_\`, \`.\` and \`-\`, other than \`.\` and \`..\`.`);
}

/** An absolute path inside the build container, safe in a mount option list (no `,` or `=`). */
export function checkMountTarget(target: string, path: string): Diagnostic | undefined {
  if (/^\/[A-Za-z0-9_./-]*$/.test(target) && !target.split("/").includes("..")) return undefined;
  return error(codes.INVALID_PATH, path, `${show(target)} is not a mount path: write an absolute path of letters, digits, \`_\`, \`.\`, \`-\` and \`/\`, e.g. \`/root/.netrc\`.`);
}
