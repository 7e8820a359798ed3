/**
 * The base image of the end-to-end fixtures, made locally because no registry is reachable:
 * busybox and its applet links, a `zenml` user, and stand-ins for `apt-get`, `pip` and `uv` that
 * record what they are asked to do under /var/log/dockwright instead of installing anything.
 */
import { chmod, copyFile, mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { toolPath } from "../../support/tools.ts";
import { ok } from "./run.ts";

export const baseImage = "localhost/dockwright-test-base:latest";
export const basePath = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin";
export const baseCmd = ["sh"];

/** A different gid than uid, so that a wrong group in `--chown` shows. */
export const testUser = { name: "zenml", uid: 1001, gid: 1002 };

/**
 * Records one call: its arguments, one line, and each `-r` file copied in order, numbered across
 * tools, so the tests can check which requirements were installed in which order.
 */
const record = `#!/bin/sh
set -eu
log=/var/log/dockwright
mkdir -p "$log/requirements"
tool=$(basename "$0")
# Build secrets: only whether the command saw them, never their values.
secrets=""
[ -z "\${PIP_INDEX_URL:-}" ] || secrets="$secrets [PIP_INDEX_URL is set]"
[ ! -s /root/.netrc ] || secrets="$secrets [/root/.netrc is there]"
# Who ran it, and a variable only a parent image sets: what a build inherited.
[ -z "\${PARENT_MARK:-}" ] || secrets="$secrets [PARENT_MARK=$PARENT_MARK]"
printf '%s %s [DEBIAN_FRONTEND=%s]%s [uid=%s gid=%s]\\n' "$tool" "$*" "\${DEBIAN_FRONTEND:-}" "$secrets" "$(id -u)" "$(id -g)" >>"$log/calls"
previous=""
installing=no
for arg in "$@"; do
  if [ "$previous" = "-r" ]; then
    n=$(($(ls "$log/requirements" | wc -l) + 1))
    cp "$arg" "$log/requirements/$n-$(basename "$arg")"
  fi
  case "$tool:$installing:$arg" in
    pip:*:uv) cp /opt/stand-ins/uv /usr/local/bin/uv ;; # pip installs the uv stand-in
    apt-get:*:update) mkdir -p /var/lib/apt/lists && touch /var/lib/apt/lists/updated ;;
    apt-get:no:install) installing=yes ;;
    apt-get:yes:-*) ;;
    apt-get:yes:*) mkdir -p /opt/apt && touch "/opt/apt/$arg" ;;
  esac
  previous=$arg
done
`;

export type RootfsOptions = {
  /** Where the stand-ins are linked (default /usr/local/bin, on BuildKit's default PATH). */
  toolsDir?: string;
  /** Another user in /etc/passwd and /etc/group, for a parent whose `User` it is. */
  user?: { name: string; uid: number; gid: number };
  /** A time each stand-in call sleeps, as a real download would take (bench/builds). */
  installSeconds?: number;
};

/** Writes the root file system both builders start from. */
export async function writeRootfs(dir: string, options: RootfsOptions = {}): Promise<void> {
  await mkdir(path.join(dir, "bin"), { recursive: true });
  const busybox = toolPath("busybox")!;
  await copyFile(busybox, path.join(dir, "bin", "busybox"));
  const applets = (await ok(busybox, ["--list"])).split("\n").filter((name) => name && name !== "busybox");
  for (const applet of applets) await symlink("busybox", path.join(dir, "bin", applet));
  for (const folder of ["etc", "tmp", "root", "usr/local/bin", "opt/stand-ins", "home/zenml", "var/log"]) {
    await mkdir(path.join(dir, folder), { recursive: true, mode: 0o755 });
  }
  await chmod(path.join(dir, "tmp"), 0o1777);
  const users = [testUser, ...(options.user ? [options.user] : [])];
  await writeFile(path.join(dir, "etc/passwd"), `root:x:0:0:root:/root:/bin/sh\n${users.map(({ name, uid, gid }) => `${name}:x:${uid}:${gid}::/home/${name}:/bin/sh\n`).join("")}`);
  await writeFile(path.join(dir, "etc/group"), `root:x:0:\n${users.map(({ name, gid }) => `${name}:x:${gid}:\n`).join("")}`);
  const sleep = options.installSeconds === undefined ? "" : `sleep ${options.installSeconds}\n`;
  await writeFile(path.join(dir, "opt/stand-ins/record"), `${record}${sleep}`, { mode: 0o755 });
  // A tool's name is the name it was called by: links, and the copy `pip install uv` makes.
  const tools = options.toolsDir ?? "/usr/local/bin";
  await mkdir(path.join(dir, tools), { recursive: true, mode: 0o755 });
  for (const tool of ["pip", "apt-get"]) await symlink("/opt/stand-ins/record", path.join(dir, tools, tool));

  await symlink("/opt/stand-ins/record", path.join(dir, "opt/stand-ins/uv"));
}
