/**
 * Daemon addresses, as buildctl reads them: `unix:///path`, `tcp://host:port`, and the connection
 * helper `docker-container://NAME` (a stdio bridge through `docker exec -i NAME buildctl
 * dial-stdio`); and Docker's own engine, `docker-engine:///var/run/docker.sock` (its `/grpc`
 * endpoint, as buildx's docker driver uses it). No address: $BUILDKIT_HOST, else root's socket.
 */
import { BuildkitError } from "./errors.js";

export type Address =
  | { kind: "unix"; path: string }
  | { kind: "tcp"; host: string; port: number }
  | { kind: "docker-container"; container: string }
  | { kind: "docker-engine"; socket: string };

/** buildctl's default on Linux as root (util/appdefaults). */
export const defaultAddress = "unix:///run/buildkit/buildkitd.sock";

/** The address to use: the given one, else $BUILDKIT_HOST, else the default socket. */
export function chooseAddress(address: string | undefined, env: Record<string, string | undefined>): string {
  return address || env["BUILDKIT_HOST"] || defaultAddress;
}

export function parseAddress(address: string): Address {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/.exec(address);
  const fix = "Use unix:///PATH, tcp://HOST:PORT, docker-container://NAME or docker-engine:///PATH.";
  if (!match) throw new BuildkitError(`the BuildKit address ${JSON.stringify(address)} has no scheme. ${fix}`);
  const [, scheme, rest = ""] = match;
  if (scheme === "unix") {
    if (!rest.startsWith("/")) throw new BuildkitError(`the BuildKit address ${JSON.stringify(address)} names no absolute socket path. ${fix}`);
    return { kind: "unix", path: rest };
  }
  if (scheme === "tcp") {
    const hostPort = /^(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(rest);
    const port = Number(hostPort?.[2]);
    if (!hostPort || port < 1 || port > 65535) throw new BuildkitError(`the BuildKit address ${JSON.stringify(address)} needs a host and a port (tcp://HOST:PORT).`);
    return { kind: "tcp", host: hostPort[1]!.replace(/^\[|\]$/g, ""), port };
  }
  if (scheme === "docker-container") {
    const container = rest.replace(/\/$/, "");
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(container)) throw new BuildkitError(`the BuildKit address ${JSON.stringify(address)} names no container (docker-container://NAME).`);
    return { kind: "docker-container", container };
  }
  if (scheme === "docker-engine") {
    const socket = rest || "/var/run/docker.sock";
    if (!socket.startsWith("/")) throw new BuildkitError(`the BuildKit address ${JSON.stringify(address)} names no absolute socket path of Docker's engine. ${fix}`);
    return { kind: "docker-engine", socket };
  }
  throw new BuildkitError(`the BuildKit address scheme ${JSON.stringify(`${scheme}://`)} is not supported. ${fix}`);
}
