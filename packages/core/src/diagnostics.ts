/**
 * Diagnostics: user mistakes are data, never exceptions. Every message names the settings path,
 * the value and the fix. Codes are stable; one factory per condition lives beside its caller, the
 * shared shape lives here.
 *
 * Messages are printed to terminals and logs, so the factories make them safe to print: control
 * characters are escaped (a hostile value cannot forge a line or drive the terminal) and
 * credentials in URLs are hidden.
 */
import { looksSecret, redactCredentials } from "./credentials.js";

export type Severity = "error" | "warning";

export type Diagnostic = {
  code: DiagnosticCode;
  severity: Severity;
  /** Settings path such as `steps.trainer.settings.docker.apt_packages[2]`, or a file path. */
  path: string;
  message: string;
};

export const codes = {
  INVALID_CONFIG: "INVALID_CONFIG",
  INVALID_TYPE: "INVALID_TYPE",
  INVALID_VALUE: "INVALID_VALUE",
  UNKNOWN_KEY: "UNKNOWN_KEY",
  DEPRECATED_FIELD: "DEPRECATED_FIELD",
  CONFLICTING_FIELDS: "CONFLICTING_FIELDS",
  SKIP_BUILD_WITHOUT_PARENT: "SKIP_BUILD_WITHOUT_PARENT",
  INSTALL_COMMAND_WITHOUT_FILES: "INSTALL_COMMAND_WITHOUT_FILES",
  INVALID_APT_PACKAGE: "INVALID_APT_PACKAGE",
  INVALID_ENV_NAME: "INVALID_ENV_NAME",
  DUPLICATE_ENV_NAME: "DUPLICATE_ENV_NAME",
  UNSAFE_VALUE: "UNSAFE_VALUE",
  INVALID_IMAGE_REF: "INVALID_IMAGE_REF",
  INVALID_USER: "INVALID_USER",
  INVALID_PATH: "INVALID_PATH",
  INVALID_INSTALLER_ARG: "INVALID_INSTALLER_ARG",
  UNKNOWN_INTEGRATION: "UNKNOWN_INTEGRATION",
  UNKNOWN_STACK_FLAVOR: "UNKNOWN_STACK_FLAVOR",
  NO_PARENT_IMAGE: "NO_PARENT_IMAGE",
  FILE_NOT_FOUND: "FILE_NOT_FOUND",
  LOCAL_ENVIRONMENT_UNAVAILABLE: "LOCAL_ENVIRONMENT_UNAVAILABLE",
  CODE_DOWNLOAD_UNAVAILABLE: "CODE_DOWNLOAD_UNAVAILABLE",
  CODE_NOT_UPLOADED: "CODE_NOT_UPLOADED",
  SETTING_IGNORED: "SETTING_IGNORED",
  PLUGIN_INCOMPATIBLE: "PLUGIN_INCOMPATIBLE",
  CONTEXT_WARNING: "CONTEXT_WARNING",
  SECRET_IN_ENVIRONMENT: "SECRET_IN_ENVIRONMENT",
  UNSUPPORTED_BY_BACKEND: "UNSUPPORTED_BY_BACKEND",
  INVALID_DOCKERIGNORE: "INVALID_DOCKERIGNORE",
  CONTEXT_UNREADABLE: "CONTEXT_UNREADABLE",
  NO_SOURCE_ROOT: "NO_SOURCE_ROOT",
  INVALID_REQUIREMENT: "INVALID_REQUIREMENT",
  REQUIREMENTS_CONFLICT: "REQUIREMENTS_CONFLICT",
  LOCAL_ENVIRONMENT_FAILED: "LOCAL_ENVIRONMENT_FAILED",
  NO_PRESET: "NO_PRESET",
  UNSET_VARIABLE: "UNSET_VARIABLE",
  CREDENTIAL_IN_URL: "CREDENTIAL_IN_URL",
} as const;

export type DiagnosticCode = (typeof codes)[keyof typeof codes];

export function error(code: DiagnosticCode, path: string, message: string): Diagnostic {
  return { code, severity: "error", path: printable(path), message: printable(redactCredentials(message)) };
}

export function warning(code: DiagnosticCode, path: string, message: string): Diagnostic {
  return { code, severity: "warning", path: printable(path), message: printable(redactCredentials(message)) };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/**
 * A value as it appears in a message: JSON, shortened, control characters visible, credentials in
 * URLs hidden. A value whose setting (`path`, or a key inside the value) is named like a credential
 * (`environment.HF_TOKEN`) is not shown at all.
 */
export function show(value: unknown, path?: string): string {
  if (path !== undefined && looksSecret(lastName(path))) return "(a value not shown: its name says it is a credential)";
  const text = redactCredentials(JSON.stringify(value, hideSecretKeys) ?? String(value));
  // Cut by code point, so a character outside the BMP is never split in half.
  const points = Array.from(text.slice(0, 200));
  return printable(points.length > 80 ? `${points.slice(0, 77).join("")}...` : text);
}

function hideSecretKeys(key: string, value: unknown): unknown {
  return key !== "" && looksSecret(key) && value !== null && typeof value !== "object" ? "(not shown)" : value;
}

/** The last name of a settings path as `formatPath` writes it: `a.b`, `a["odd key"]`, `a[2]`. */
function lastName(path: string): string {
  const quoted = /\[("(?:[^"\\]|\\.)*")\]$/.exec(path);
  if (quoted) return JSON.parse(quoted[1]!) as string;
  return /[A-Za-z_][A-Za-z0-9_-]*$/.exec(path)?.[0] ?? "";
}

/**
 * Characters that end a line or drive a terminal when printed: C0 and C1 controls except tab,
 * DEL, the line and paragraph separators, and the bidirectional overrides (which reorder what a
 * reader sees).
 */
const unprintable = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text safe to print on one line: each such character written as a JSON escape (`\n`, `\u001b`). */
export function printable(text: string): string {
  return text.replace(unprintable, (c) => escapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const escapes: Record<string, string> = { "\n": "\\n", "\r": "\\r" };

/** One line per diagnostic, `error CODE at path: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.severity} ${d.code}${d.path ? ` at ${printable(d.path)}` : ""}: ${printable(d.message)}`;
}

/**
 * Thrown by code that finds a user mistake deep in a call chain; the Compiler turns it back into
 * diagnostics. Never escapes `Compiler.compile`.
 */
export class DiagnosticError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.diagnostics = diagnostics;
  }
}
