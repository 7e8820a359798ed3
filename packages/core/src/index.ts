export type * from "./ir.js";
export { Compiler, coreVersion, type Plugin, type CompileRequest, type CompileResult } from "./compiler.js";
export type * from "./hooks.js";
export type { CompileHost } from "./lower.js";
export { commandsFor, type Capabilities } from "./commands.js";
export { shellQuote, shellJoin } from "./shell.js";
export { canonicalJson, sha256 } from "./checksum.js";
export { codes, error, warning, hasErrors, formatDiagnostic, DiagnosticError, type Diagnostic, type DiagnosticCode, type Severity } from "./diagnostics.js";
export { settingsJsonSchema, type GivenSettings, type Settings, type LocalEnvironmentMethod } from "./settings.js";
