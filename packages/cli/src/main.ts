import { invalidInput } from "./args.js";
import { exitCodes, type Command, type Io } from "./io.js";

// Commands load on first use: \`dockwright context\` should not pay for the compiler's start-up.
const commands: Record<string, { run: () => Promise<Command>; summary: string }> = {
  init: { run: async () => (await import("./commands/init.js")).initCommand, summary: "write a commented starter run configuration into the current folder" },
  compile: { run: async () => (await import("./commands/compile.js")).compileCommand, summary: "compile a run configuration into build definitions" },
  build: { run: async () => (await import("./commands/build.js")).buildCommand, summary: "compile, then build the images with buildah, docker or buildctl" },
  context: { run: async () => (await import("./commands/context.js")).contextCommand, summary: "list the files Docker would send as build context" },
  explain: { run: async () => (await import("./commands/explain.js")).explainCommand, summary: "tell which images are reusable and which layers would rebuild, and why" },
  schema: { run: async () => (await import("./commands/schema.js")).schemaCommand, summary: "print the JSON Schema of the Docker settings" },
  "inspect-llb": { run: async () => (await import("./commands/inspect-llb.js")).inspectLlbCommand, summary: "print an llb.pb file as dump-llb JSON" },
};

export const usage: string = `Usage: dockwright <command> [options]

Commands:
${Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(12)} ${summary}`).join("\n")}

Run \`dockwright <command> --help\` for a command's options.
Exit codes: 0 success, 1 a build tool failed, 2 invalid input.
`;

/** Runs one command line; never throws for user mistakes. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage);
    return name === undefined ? exitCodes.invalidInput : exitCodes.ok;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`dockwright: unknown command ${JSON.stringify(name)}.\n\n${usage}`);
    return exitCodes.invalidInput;
  }
  try {
    return await (await command.run())(args, io);
  } catch (e) {
    // The file system refusing (permissions, a file where a folder should be, a full disk) is a
    // problem of the paths given, not of Dockwright: it gets a sentence, not a stack trace.
    const { code, syscall, path: file } = e as NodeJS.ErrnoException;
    if (typeof code !== "string" || !/^E[A-Z]+$/.test(code) || typeof file !== "string") throw e;
    return invalidInput(io, `${syscall ?? "access"} ${JSON.stringify(file)} failed (${code}). Check that the path is right and that it may be written.`);
  }
}
