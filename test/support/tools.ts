/**
 * The system tools some suites drive, found once: on PATH, or where an environment variable
 * names them. A suite that needs a missing tool is skipped (`describe.skipIf(lacks(...))`), and
 * the run prints one summary line naming each missing tool and how to get it. Under `CI=true` a
 * missing tool fails the run instead: CI must never pass by skipping.
 */
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";

type ToolInfo = { command: string; env?: string; how: string };

export const toolInfo = {
  buildah: { command: "buildah", env: "BUILDAH", how: "apt-get install buildah" },
  busybox: { command: "busybox", how: "apt-get install busybox-static (the test base image)" },
  shellcheck: { command: "shellcheck", how: "apt-get install shellcheck" },
  protoc: { command: "protoc", how: "apt-get install protobuf-compiler" },
  dockerd: { command: "dockerd", how: "apt-get install docker.io (Docker's engine 20.10)" },
  runc: { command: "runc", how: "apt-get install runc" },
  registry: { command: "docker-registry", env: "DOCKWRIGHT_REGISTRY", how: "apt-get install docker-registry" },
  htpasswd: { command: "htpasswd", how: "apt-get install apache2-utils" },
  openssl: { command: "openssl", how: "apt-get install openssl" },
  git: { command: "git", how: "apt-get install git" },
  python3: { command: "python3", how: "apt-get install python3 python3-pip" },
  buildkitd: { command: "buildkitd", env: "BUILDKITD", how: "BuildKit v0.11.6 (not in Debian): buildkitd on PATH or $BUILDKITD, from github.com/moby/buildkit/releases" },
  buildctl: { command: "buildctl", env: "BUILDCTL", how: "BuildKit v0.11.6 (not in Debian): buildctl on PATH or $BUILDCTL, from github.com/moby/buildkit/releases" },
} as const satisfies Record<string, ToolInfo>;

export type ToolName = keyof typeof toolInfo;

const found = new Map<ToolName, string | undefined>();

/** The executable of a tool, or undefined when it is not installed. */
export function toolPath(name: ToolName): string | undefined {
  if (found.has(name)) return found.get(name);
  const info: ToolInfo = toolInfo[name];
  const named = info.env ? process.env[info.env] : undefined;
  const candidates = named
    ? [named]
    : [...(process.env["PATH"] ?? "").split(path.delimiter), "/usr/sbin", "/sbin"].filter(Boolean).map((dir) => path.join(dir, info.command));
  const file = candidates.find(executable);
  found.set(name, file);
  return file;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The tools of `names` that are missing. */
export function missingTools(...names: ToolName[]): ToolName[] {
  return names.filter((name) => toolPath(name) === undefined);
}

/**
 * True when one of the tools is missing, for `describe.skipIf`. Under `CI=true` a missing tool
 * throws, so that the suite fails instead of passing by skipping.
 */
export function lacks(...names: ToolName[]): boolean {
  const missing = missingTools(...names);
  if (missing.length === 0) return false;
  if (process.env["CI"] === "true") {
    throw new Error(`CI=true, but the tests need ${missing.map((n) => `${toolInfo[n].command} (${toolInfo[n].how})`).join(", ")}. Run scripts/provision.sh as root.`);
  }
  return true;
}

/** One line per missing tool, with how to get it; empty when everything is there. */
export function missingSummary(): string[] {
  return (Object.keys(toolInfo) as ToolName[])
    .filter((name) => toolPath(name) === undefined)
    .map((name) => `${toolInfo[name].command}: ${toolInfo[name].how}`);
}
