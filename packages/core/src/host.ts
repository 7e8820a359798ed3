/**
 * The host contract: what the compiler asks of whoever embeds it, since core touches no file
 * system. Paths that settings name are absolute, or relative to `base` (ZenML: the working
 * directory; the CLI: the configuration file's folder).
 */
import type { Diagnostic } from "./diagnostics.js";
import type { ContextSnapshot } from "./ir.js";

export type ContextResult = { patterns: string[]; snapshot: ContextSnapshot; diagnostics: Diagnostic[] };

export interface CompileHost {
  /** The source root (absolute): its files are the build context, `requirements.txt` is detected in it. */
  readonly root: string;
  /** The folder relative settings paths start from (absolute). */
  readonly base: string;
  /** The absolute form of a settings path. */
  resolve(path: string): string;
  /**
   * Text of a file a setting names; undefined when it does not exist. Throws a `DiagnosticError`
   * naming `settingPath` when it cannot be read (not a file, unreadable, a loop, too large).
   */
  readFile(path: string, settingPath: string): Promise<string | undefined>;
  /** Whether a folder a setting names exists; throws a `DiagnosticError` when it is not a folder. */
  folder?(path: string, settingPath: string): Promise<boolean>;
  /** The build context of the source root, filtered by the given (settings path) or the root's .dockerignore. */
  context(dockerignore: string | undefined, settingPath: string): Promise<ContextResult>;
  /** Packs the source root for download from an artifact store; absent when the host cannot. */
  codeArchive?(): Promise<{ path: string; sha256: string; diagnostics: Diagnostic[] }>;
  /**
   * Puts the packed archive where the run downloads it (ZenML: the artifact store); resolves to
   * that location. Absent when nothing uploads it: the compile then warns that the images hold no code.
   */
  uploadCode?(archive: { path: string; sha256: string }): Promise<{ location: string }>;
}
