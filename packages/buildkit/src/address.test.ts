import { describe, expect, it } from "vitest";
import { chooseAddress, parseAddress } from "./address.js";

describe("addresses", () => {
  it("reads buildctl's forms", () => {
    expect(parseAddress("unix:///run/buildkit/buildkitd.sock")).toEqual({ kind: "unix", path: "/run/buildkit/buildkitd.sock" });
    expect(parseAddress("tcp://10.0.0.1:1234")).toEqual({ kind: "tcp", host: "10.0.0.1", port: 1234 });
    expect(parseAddress("tcp://[::1]:1234")).toEqual({ kind: "tcp", host: "::1", port: 1234 });
    expect(parseAddress("docker-container://buildx_buildkit_default")).toEqual({ kind: "docker-container", container: "buildx_buildkit_default" });
    expect(parseAddress("docker-engine://")).toEqual({ kind: "docker-engine", socket: "/var/run/docker.sock" });
    expect(parseAddress("docker-engine:///tmp/d/docker.sock")).toEqual({ kind: "docker-engine", socket: "/tmp/d/docker.sock" });
  });

  it("takes $BUILDKIT_HOST, else root's socket", () => {
    expect(chooseAddress(undefined, { BUILDKIT_HOST: "tcp://b:1" })).toBe("tcp://b:1");
    expect(chooseAddress("unix:///x", { BUILDKIT_HOST: "tcp://b:1" })).toBe("unix:///x");
    expect(chooseAddress(undefined, {})).toBe("unix:///run/buildkit/buildkitd.sock");
  });

  it.each([
    ["buildkitd:1234", 'the BuildKit address "buildkitd:1234" has no scheme. Use unix:///PATH, tcp://HOST:PORT, docker-container://NAME or docker-engine:///PATH.'],
    ["unix://relative.sock", 'the BuildKit address "unix://relative.sock" names no absolute socket path. Use unix:///PATH, tcp://HOST:PORT, docker-container://NAME or docker-engine:///PATH.'],
    ["tcp://host", 'the BuildKit address "tcp://host" needs a host and a port (tcp://HOST:PORT).'],
    ["tcp://host:70000", 'the BuildKit address "tcp://host:70000" needs a host and a port (tcp://HOST:PORT).'],
    ["docker-container://", 'the BuildKit address "docker-container://" names no container (docker-container://NAME).'],
    ["kube-pod://x", 'the BuildKit address scheme "kube-pod://" is not supported. Use unix:///PATH, tcp://HOST:PORT, docker-container://NAME or docker-engine:///PATH.'],
  ])("refuses %s with a fix", (address, message) => {
    expect(() => parseAddress(address)).toThrow(message);
  });
});
