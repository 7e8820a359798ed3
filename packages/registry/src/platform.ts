/**
 * Platforms (`os/architecture[/variant]`) and the choice of one entry of a multi-platform index,
 * with containerd's normalization: `arm64` is `arm64/v8`, `arm` is `arm/v7`, `amd64/v1` is
 * `amd64`, and an arm entry of an older variant serves a newer one when nothing matches exactly.
 */
import type { Platform } from "@dockwright/core";

export type { Platform };

/** `linux/arm64/v8` or a platform object; architecture aliases such as `x86_64` and `aarch64` are understood. */
export type PlatformInput = Platform | string;

export function toPlatform(input: PlatformInput): Platform {
  if (typeof input !== "string") return normalize(input);
  const [os, architecture, variant, ...rest] = input.split("/");
  if (!os || !architecture || rest.length > 0) throw new TypeError(`${JSON.stringify(input)} is not a platform: write os/architecture[/variant], e.g. linux/arm64`);
  return normalize({ os, architecture, ...(variant ? { variant } : {}) });
}

/** The platform of this machine, Linux being what images run on. */
export function hostPlatform(): Platform {
  const architecture = ({ x64: "amd64", ia32: "386", ppc64: "ppc64le" } as Record<string, string>)[process.arch] ?? process.arch;
  return normalize({ os: "linux", architecture });
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

const aliases: Record<string, Platform> = {
  x86_64: { os: "", architecture: "amd64" },
  "x86-64": { os: "", architecture: "amd64" },
  aarch64: { os: "", architecture: "arm64" },
  armhf: { os: "", architecture: "arm", variant: "v7" },
  armel: { os: "", architecture: "arm", variant: "v6" },
  i386: { os: "", architecture: "386" },
};

function normalize(platform: Platform): Platform {
  const os = platform.os.toLowerCase();
  const alias = aliases[platform.architecture.toLowerCase()];
  const architecture = alias?.architecture ?? platform.architecture.toLowerCase();
  let variant = (platform.variant ?? alias?.variant ?? "").toLowerCase();
  if (architecture === "arm64" && (variant === "" || variant === "8")) variant = "v8";
  if (architecture === "arm" && variant === "") variant = "v7";
  if (architecture === "arm" && /^[5-8]$/.test(variant)) variant = `v${variant}`;
  if (architecture === "amd64" && variant === "v1") variant = "";
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * The index entry for `want`: an exact match, else (arm only) the newest older variant. Entries
 * without a platform or for `unknown/unknown` (BuildKit's attestations) never match.
 */
export function choosePlatform<T extends { platform?: Platform | undefined }>(entries: readonly T[], want: Platform): T | undefined {
  const target = normalize(want);
  const candidates = entries.flatMap((entry) => {
    if (!entry.platform) return [];
    const have = normalize(entry.platform);
    if (have.os !== target.os || have.architecture !== target.architecture) return [];
    const rank = variantRank(have, target);
    return rank === undefined ? [] : [{ entry, rank }];
  });
  candidates.sort((a, b) => a.rank - b.rank);
  return candidates[0]?.entry;
}

/** 0 for the same variant; for arm, how many variants older; undefined when it cannot serve. */
function variantRank(have: Platform, want: Platform): number | undefined {
  if ((have.variant ?? "") === (want.variant ?? "")) return 0;
  if (want.architecture !== "arm") return undefined;
  const haveLevel = Number(have.variant?.slice(1));
  const wantLevel = Number(want.variant?.slice(1));
  return haveLevel < wantLevel ? wantLevel - haveLevel : undefined;
}
