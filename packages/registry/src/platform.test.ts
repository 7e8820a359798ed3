import { describe, expect, it } from "vitest";
import { choosePlatform, formatPlatform, toPlatform } from "./platform.js";

const entries = [
  { id: "amd64", platform: { os: "linux", architecture: "amd64" } },
  { id: "arm64", platform: { os: "linux", architecture: "arm64" } },
  { id: "arm5", platform: { os: "linux", architecture: "arm", variant: "v5" } },
  { id: "arm6", platform: { os: "linux", architecture: "arm", variant: "v6" } },
  { id: "windows", platform: { os: "windows", architecture: "amd64" } },
  { id: "attestation", platform: { os: "unknown", architecture: "unknown" } },
  { id: "bare" },
];
const pick = (want: string) => choosePlatform(entries, toPlatform(want))?.id;

describe("platforms", () => {
  it("parses os/architecture/variant with containerd's normalization", () => {
    expect(toPlatform("linux/arm64")).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(toPlatform("Linux/x86_64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(toPlatform("linux/amd64/v1")).toEqual({ os: "linux", architecture: "amd64" });
    expect(toPlatform("linux/arm")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
    expect(toPlatform("linux/armhf")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
    expect(formatPlatform(toPlatform("linux/aarch64"))).toBe("linux/arm64/v8");
    expect(() => toPlatform("linux")).toThrow("is not a platform");
    expect(() => toPlatform("linux/arm/v7/x")).toThrow("is not a platform");
  });

  it("chooses the exact entry, else the newest older arm variant, never an attestation", () => {
    expect(pick("linux/amd64")).toBe("amd64");
    expect(pick("linux/arm64/v8")).toBe("arm64");
    expect(pick("windows/amd64")).toBe("windows");
    expect(pick("linux/arm/v6")).toBe("arm6");
    expect(pick("linux/arm/v7")).toBe("arm6");
    expect(pick("linux/arm/v5")).toBe("arm5");
    expect(pick("linux/amd64/v3")).toBeUndefined();
    expect(pick("linux/riscv64")).toBeUndefined();
    expect(pick("unknown/unknown")).toBe("attestation");
  });
});
