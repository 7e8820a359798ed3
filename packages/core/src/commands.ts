/**
 * Lowering of layers to the shell commands every backend runs, for a backend's capabilities.
 * One place builds every RUN line, so quoting and installer flags cannot drift between backends.
 */
import type { CacheMount, Installer, Layer, RunSpec, SecretMount } from "./ir.js";
import { shellJoin, shellQuote } from "./shell.js";

export type Capabilities = {
  /** BuildKit-style cache mounts (`RUN --mount=type=cache`). */
  cacheMounts: boolean;
};

const aptCaches: CacheMount[] = [
  { id: "apt-cache", target: "/var/cache/apt", sharing: "locked" },
  { id: "apt-lists", target: "/var/lib/apt", sharing: "locked" },
];

const installerCache: Record<Installer["tool"], CacheMount> = {
  pip: { id: "pip-cache", target: "/root/.cache/pip", sharing: "shared" },
  uv: { id: "uv-cache", target: "/root/.cache/uv", sharing: "shared" },
};

type CommandLayer = Extract<Layer, { kind: "apt" | "installer" | "requirements" | "permissions" | "run" }>;

/** The command of a layer that runs one. */
export function commandsFor(layer: CommandLayer, caps: Capabilities): RunSpec {
  switch (layer.kind) {
    case "apt": {
      const install = `apt-get update && DEBIAN_FRONTEND=noninteractive ${shellJoin(["apt-get", "install", "-y", "--no-install-recommends", ...layer.packages])}`;
      // With cache mounts the package lists live in the mount, not in the layer.
      return caps.cacheMounts
        ? { shell: install, cacheMounts: aptCaches, secrets: [] }
        : { shell: `${install} && rm -rf /var/lib/apt/lists/*`, cacheMounts: [], secrets: [] };
    }
    case "installer":
      return pipInstall(["pip", "install"], { tool: "pip", args: [], noCache: true }, [layer.tool], layer.secrets, caps);
    case "requirements": {
      const command = layer.installer.tool === "uv" ? ["uv", "pip", "install"] : ["pip", "install"];
      return pipInstall(command, layer.installer, ["-r", layer.dest], layer.secrets, caps);
    }
    case "permissions":
      return { shell: permissions(layer.writable, layer.owner), cacheMounts: [], secrets: [] };
    case "run":
      return { shell: layer.shell, cacheMounts: [], secrets: [] };
  }
}

/**
 * What `chmod -R a+rw .` and `chown -R <owner> .` leave, changing only what differs: copied files
 * are already so (staged writable, copied with `--chown`), so no file is stored in a layer again.
 * Symbolic links keep their modes, as `chmod -R` leaves them; `chown -h` owns the link itself.
 */
function permissions(writable: boolean, owner: string | undefined): string {
  const steps: string[] = [];
  if (writable) steps.push("find . ! -type l ! -perm -0666 -exec chmod a+rw {} +");
  if (owner !== undefined) {
    const [user = "", group] = owner.split(":");
    const differs = group === undefined ? `! -user ${shellQuote(user)}` : `\\( ! -user ${shellQuote(user)} -o ! -group ${shellQuote(group)} \\)`;
    steps.push(`find . ${differs} -exec chown -h ${shellQuote(owner)} {} +`);
  }
  return steps.join(" && ");
}

function pipInstall(command: string[], installer: Installer, operands: string[], secrets: SecretMount[], caps: Capabilities): RunSpec {
  const useMount = installer.noCache && caps.cacheMounts;
  const flags = installer.noCache && !useMount ? ["--no-cache-dir", ...installer.args] : installer.args;
  // A secret read into a variable of this one command: never in ENV, ARG or a layer.
  const fromSecrets = secrets.flatMap((s) => (s.env ? [`${s.env}="$(cat ${shellQuote(s.target)})"`] : []));
  return {
    shell: [...fromSecrets, shellJoin([...command, ...flags, ...operands])].join(" "),
    cacheMounts: useMount ? [installerCache[installer.tool]] : [],
    secrets,
  };
}
