/** What a command may touch of its process, so tests can run commands in-process. */
export type Io = {
  cwd: string;
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard error is a terminal: progress indicators are welcome. */
  stderrIsTTY: boolean;
  /**
   * Resolves at the first interrupt (SIGINT, SIGTERM), for a command that runs until stopped
   * (`compile --watch`); without it such a command runs until the process ends.
   */
  interrupted?: () => Promise<void>;
};

/** Exit codes of the command-line contract. */
export const exitCodes = { ok: 0, buildFailed: 1, invalidInput: 2 } as const;

/** A command: arguments after its name in, exit code out. */
export type Command = (args: string[], io: Io) => Promise<number>;
