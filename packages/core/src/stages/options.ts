/**
 * Build options, in docker-py's names (`buildargs`, `nocache`, `shmsize`, ...) or ZenML 0.92's
 * `DockerBuildOptions` names (`build_args`, `no_cache`, `shm_size`, ...), read into one form
 * that every builder translates; values as Python prints them.
 */
import { codes, error, show, type Diagnostic } from "../diagnostics.js";
import type { BuildOptions } from "../ir.js";
import { pythonStr } from "../python.js";
import { formatPath } from "../settings.js";
import { checkSingleLine } from "../validate.js";

const aliases: Record<string, string> = {
  buildargs: "build_args",
  nocache: "no_cache",
  shmsize: "shm_size",
  cachefrom: "cache_from",
  network_mode: "network",
};

/** Options with no effect on the image a build produces. */
const inert = new Set(["rm", "forcerm", "quiet", "decode", "timeout", "encoding"]);

export function readBuildOptions(raw: Record<string, unknown>, base: string, out: Diagnostic[]): BuildOptions {
  const options: BuildOptions = { buildArgs: [], labels: [], cacheFrom: [], extraHosts: [], other: {} };
  for (const [given, value] of Object.entries(raw)) {
    const name = aliases[given] ?? given;
    const at = formatPath(base, [given]);
    if (value === null || value === undefined || inert.has(name)) continue;
    switch (name) {
      case "build_args":
      case "labels":
      case "extra_hosts": {
        const pairs = namedValues(value, at, name === "labels" ? "label" : name === "build_args" ? "build argument" : "host", out);
        if (name === "build_args") options.buildArgs = pairs;
        else if (name === "labels") options.labels = pairs;
        else options.extraHosts = pairs;
        break;
      }
      case "cache_from":
        if (Array.isArray(value) && value.every((v) => typeof v === "string")) options.cacheFrom = value;
        else out.push(error(codes.INVALID_TYPE, at, `got ${show(value)}; expected a list of image references.`));
        break;
      case "platform":
      case "target":
      case "network":
        if (typeof value !== "string" || checkSingleLine(value, at, "a build option")) {
          out.push(error(codes.INVALID_TYPE, at, `got ${show(value)}; expected a single-line string.`));
        } else options[name] = value;
        break;
      case "no_cache":
      case "pull":
        if (typeof value !== "boolean") out.push(error(codes.INVALID_TYPE, at, `got ${show(value)}; expected true or false.`));
        else options[name === "no_cache" ? "noCache" : "pull"] = value;
        break;
      case "shm_size":
        if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) out.push(error(codes.INVALID_TYPE, at, `got ${show(value)}; expected a size in bytes.`));
        else options.shmSize = value;
        break;
      default:
        options.other[given] = value;
    }
  }
  return options;
}

/** A map of names to values, for `NAME=value` arguments. */
function namedValues(value: unknown, at: string, what: string, out: Diagnostic[]): [string, string][] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    out.push(error(codes.INVALID_TYPE, at, `got ${show(value)}; expected a map of names to values.`));
    return [];
  }
  const pairs: [string, string][] = [];
  for (const [name, v] of Object.entries(value)) {
    const path = formatPath(at, [name]);
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) && what !== "host") {
      out.push(error(codes.INVALID_VALUE, path, `${show(name)} is not a ${what} name: use letters, digits, \`_\`, \`.\` and \`-\`.`));
      continue;
    }
    if (v !== null && typeof v === "object") {
      out.push(error(codes.INVALID_TYPE, path, `got ${show(v, path)}; expected a string, a number or a boolean.`));
      continue;
    }
    const text = pythonStr(v);
    const unsafe = checkSingleLine(text, path, `a ${what}`);
    if (unsafe) out.push(unsafe);
    else pairs.push([name, text]);
  }
  return pairs;
}

/** Build arguments Docker defines without an `ARG`: the proxy variables, seen by RUN steps and never stored. */
export const predefinedArgs: ReadonlySet<string> = new Set(
  ["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"].flatMap((n) => [n, n.toLowerCase()]),
);
