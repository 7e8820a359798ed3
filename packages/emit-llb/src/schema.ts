/**
 * BuildKit's `pb` messages (solver/pb/ops.proto as of v0.11, whose field numbers later versions
 * keep), as TypeScript types and as one table of field numbers and kinds. The encoder, the decoder
 * and the dump-llb JSON printer all walk this table, so the three cannot disagree.
 *
 * Objects use the proto field names, which are also the JSON names of BuildKit's generated Go code.
 * A oneof is a set of optional sibling fields of which at most one is set. An absent field is the
 * proto3 default.
 */

/** int64 fields: a number, or a bigint when a decoded value does not fit a double exactly. */
export type Int = number | bigint;

export type Op = {
  inputs?: Input[];
  exec?: ExecOp;
  source?: SourceOp;
  file?: FileOp;
  build?: BuildOp;
  merge?: MergeOp;
  diff?: DiffOp;
  platform?: Platform;
  constraints?: WorkerConstraints;
};
export type Platform = { Architecture?: string; OS?: string; Variant?: string; OSVersion?: string; OSFeatures?: string[] };
export type Input = { digest?: string; index?: Int };
export type ExecOp = { meta?: Meta; mounts?: Mount[]; network?: number; security?: number; secretenv?: SecretEnv[] };
export type Meta = {
  args?: string[];
  env?: string[];
  cwd?: string;
  user?: string;
  proxy_env?: ProxyEnv;
  extraHosts?: HostIP[];
  hostname?: string;
  ulimit?: Ulimit[];
  cgroupParent?: string;
  removeMountStubsRecursive?: boolean;
};
export type HostIP = { Host?: string; IP?: string };
export type Ulimit = { Name?: string; Soft?: Int; Hard?: Int };
export type SecretEnv = { ID?: string; name?: string; optional?: boolean };
export type Mount = {
  input?: Int;
  selector?: string;
  dest?: string;
  output?: Int;
  readonly?: boolean;
  mountType?: number;
  TmpfsOpt?: TmpfsOpt;
  cacheOpt?: CacheOpt;
  secretOpt?: SecretOpt;
  SSHOpt?: SecretOpt;
  resultID?: string;
};
export type TmpfsOpt = { size?: Int };
export type CacheOpt = { ID?: string; sharing?: number };
export type SecretOpt = { ID?: string; uid?: number; gid?: number; mode?: number; optional?: boolean };
export type SourceOp = { identifier?: string; attrs?: Record<string, string> };
export type BuildOp = { builder?: Int; inputs?: Record<string, BuildInput>; def?: Definition; attrs?: Record<string, string> };
export type BuildInput = { input?: Int };
export type OpMetadata = {
  ignore_cache?: boolean;
  description?: Record<string, string>;
  export_cache?: { Value?: boolean };
  caps?: Record<string, boolean>;
  progress_group?: { id?: string; name?: string; weak?: boolean };
};
export type Source = { locations?: Record<string, { locations?: Location[] }>; infos?: SourceInfo[] };
export type SourceInfo = { filename?: string; data?: Uint8Array; definition?: Definition };
export type Location = { sourceIndex?: number; ranges?: Range[] };
export type Range = { start?: Position; end?: Position };
export type Position = { line?: number; character?: number };
export type ProxyEnv = { http_proxy?: string; https_proxy?: string; ftp_proxy?: string; no_proxy?: string; all_proxy?: string };
export type WorkerConstraints = { filter?: string[] };
export type Definition = { def?: Uint8Array[]; metadata?: Record<string, OpMetadata>; Source?: Source };
export type FileOp = { actions?: FileAction[] };
export type FileAction = {
  input?: Int;
  secondaryInput?: Int;
  output?: Int;
  copy?: FileActionCopy;
  mkfile?: FileActionMkFile;
  mkdir?: FileActionMkDir;
  rm?: FileActionRm;
};
export type FileActionCopy = {
  src?: string;
  dest?: string;
  owner?: ChownOpt;
  mode?: number;
  followSymlink?: boolean;
  dirCopyContents?: boolean;
  attemptUnpackDockerCompatibility?: boolean;
  createDestPath?: boolean;
  allowWildcard?: boolean;
  allowEmptyWildcard?: boolean;
  timestamp?: Int;
  include_patterns?: string[];
  exclude_patterns?: string[];
};
export type FileActionMkFile = { path?: string; mode?: number; data?: Uint8Array; owner?: ChownOpt; timestamp?: Int };
export type FileActionMkDir = { path?: string; mode?: number; makeParents?: boolean; owner?: ChownOpt; timestamp?: Int };
export type FileActionRm = { path?: string; allowNotFound?: boolean; allowWildcard?: boolean };
export type ChownOpt = { user?: UserOpt; group?: UserOpt };
export type UserOpt = { byName?: { name?: string; input?: Int }; byID?: number };
export type MergeOp = { inputs?: { input?: Int }[] };
export type DiffOp = { lower?: { input?: Int }; upper?: { input?: Int } };

/** Enum values the emitter writes. */
export const mountType = { bind: 0, secret: 1, ssh: 2, cache: 3, tmpfs: 4 } as const;
export const cacheSharing = { shared: 0, private: 1, locked: 2 } as const;

export type Scalar = "string" | "bytes" | "bool" | "int64" | "int32" | "uint32" | "enum";

export type Field = {
  no: number;
  name: string;
  /** A scalar kind, or the name of a message in `messages`. */
  type: Scalar | (string & {});
  repeated?: true;
  /** map<string, type>. */
  map?: true;
  /** The oneof this field belongs to; its Go (and JSON) name is the capitalized group name. */
  oneof?: string;
  /** Printed in JSON even when empty: the Go field has no `omitempty` (or is a non-pointer message). */
  always?: true;
};

const f = (no: number, name: string, type: Field["type"], extra: Omit<Field, "no" | "name" | "type"> = {}): Field => ({ no, name, type, ...extra });
const rep = { repeated: true } as const;
const map = { map: true } as const;
const always = { always: true } as const;
const input = [f(1, "input", "int64", always)];

/** Every message of ops.proto, fields in field-number order (which is also their declaration order). */
export const messages: Readonly<Record<string, readonly Field[]>> = {
  Op: [
    f(1, "inputs", "Input", rep),
    f(2, "exec", "ExecOp", { oneof: "op" }),
    f(3, "source", "SourceOp", { oneof: "op" }),
    f(4, "file", "FileOp", { oneof: "op" }),
    f(5, "build", "BuildOp", { oneof: "op" }),
    f(6, "merge", "MergeOp", { oneof: "op" }),
    f(7, "diff", "DiffOp", { oneof: "op" }),
    f(10, "platform", "Platform"),
    f(11, "constraints", "WorkerConstraints"),
  ],
  Platform: [f(1, "Architecture", "string"), f(2, "OS", "string"), f(3, "Variant", "string"), f(4, "OSVersion", "string"), f(5, "OSFeatures", "string", rep)],
  Input: [f(1, "digest", "string", always), f(2, "index", "int64", always)],
  ExecOp: [f(1, "meta", "Meta"), f(2, "mounts", "Mount", rep), f(3, "network", "enum"), f(4, "security", "enum"), f(5, "secretenv", "SecretEnv", rep)],
  Meta: [
    f(1, "args", "string", rep),
    f(2, "env", "string", rep),
    f(3, "cwd", "string"),
    f(4, "user", "string"),
    f(5, "proxy_env", "ProxyEnv"),
    f(6, "extraHosts", "HostIP", rep),
    f(7, "hostname", "string"),
    f(9, "ulimit", "Ulimit", rep),
    f(10, "cgroupParent", "string"),
    f(11, "removeMountStubsRecursive", "bool"),
  ],
  HostIP: [f(1, "Host", "string"), f(2, "IP", "string")],
  Ulimit: [f(1, "Name", "string"), f(2, "Soft", "int64"), f(3, "Hard", "int64")],
  SecretEnv: [f(1, "ID", "string"), f(2, "name", "string"), f(3, "optional", "bool")],
  Mount: [
    f(1, "input", "int64", always),
    f(2, "selector", "string"),
    f(3, "dest", "string"),
    f(4, "output", "int64", always),
    f(5, "readonly", "bool"),
    f(6, "mountType", "enum"),
    f(19, "TmpfsOpt", "TmpfsOpt"),
    f(20, "cacheOpt", "CacheOpt"),
    f(21, "secretOpt", "SecretOpt"),
    f(22, "SSHOpt", "SecretOpt"),
    f(23, "resultID", "string"),
  ],
  TmpfsOpt: [f(1, "size", "int64")],
  CacheOpt: [f(1, "ID", "string"), f(2, "sharing", "enum")],
  // SSHOpt has the same layout.
  SecretOpt: [f(1, "ID", "string"), f(2, "uid", "uint32"), f(3, "gid", "uint32"), f(4, "mode", "uint32"), f(5, "optional", "bool")],
  SourceOp: [f(1, "identifier", "string"), f(2, "attrs", "string", map)],
  BuildOp: [f(1, "builder", "int64", always), f(2, "inputs", "BuildInput", map), f(3, "def", "Definition"), f(4, "attrs", "string", map)],
  BuildInput: input,
  OpMetadata: [
    f(1, "ignore_cache", "bool"),
    f(2, "description", "string", map),
    f(4, "export_cache", "ExportCache"),
    f(5, "caps", "bool", { map: true, always: true }),
    f(6, "progress_group", "ProgressGroup"),
  ],
  Source: [f(1, "locations", "Locations", map), f(2, "infos", "SourceInfo", rep)],
  Locations: [f(1, "locations", "Location", rep)],
  SourceInfo: [f(1, "filename", "string"), f(2, "data", "bytes"), f(3, "definition", "Definition")],
  Location: [f(1, "sourceIndex", "int32"), f(2, "ranges", "Range", rep)],
  Range: [f(1, "start", "Position", always), f(2, "end", "Position", always)],
  Position: [f(1, "line", "int32"), f(2, "character", "int32")],
  ExportCache: [f(1, "Value", "bool")],
  ProgressGroup: [f(1, "id", "string"), f(2, "name", "string"), f(3, "weak", "bool")],
  ProxyEnv: [f(1, "http_proxy", "string"), f(2, "https_proxy", "string"), f(3, "ftp_proxy", "string"), f(4, "no_proxy", "string"), f(5, "all_proxy", "string")],
  WorkerConstraints: [f(1, "filter", "string", rep)],
  Definition: [f(1, "def", "bytes", rep), f(2, "metadata", "OpMetadata", { map: true, always: true }), f(3, "Source", "Source")],
  FileOp: [f(2, "actions", "FileAction", rep)],
  FileAction: [
    f(1, "input", "int64", always),
    f(2, "secondaryInput", "int64", always),
    f(3, "output", "int64", always),
    f(4, "copy", "FileActionCopy", { oneof: "action" }),
    f(5, "mkfile", "FileActionMkFile", { oneof: "action" }),
    f(6, "mkdir", "FileActionMkDir", { oneof: "action" }),
    f(7, "rm", "FileActionRm", { oneof: "action" }),
  ],
  FileActionCopy: [
    f(1, "src", "string"),
    f(2, "dest", "string"),
    f(3, "owner", "ChownOpt"),
    f(4, "mode", "int32"),
    f(5, "followSymlink", "bool"),
    f(6, "dirCopyContents", "bool"),
    f(7, "attemptUnpackDockerCompatibility", "bool"),
    f(8, "createDestPath", "bool"),
    f(9, "allowWildcard", "bool"),
    f(10, "allowEmptyWildcard", "bool"),
    f(11, "timestamp", "int64"),
    f(12, "include_patterns", "string", rep),
    f(13, "exclude_patterns", "string", rep),
  ],
  FileActionMkFile: [f(1, "path", "string"), f(2, "mode", "int32"), f(3, "data", "bytes"), f(4, "owner", "ChownOpt"), f(5, "timestamp", "int64")],
  FileActionMkDir: [f(1, "path", "string"), f(2, "mode", "int32"), f(3, "makeParents", "bool"), f(4, "owner", "ChownOpt"), f(5, "timestamp", "int64")],
  FileActionRm: [f(1, "path", "string"), f(2, "allowNotFound", "bool"), f(3, "allowWildcard", "bool")],
  ChownOpt: [f(1, "user", "UserOpt"), f(2, "group", "UserOpt")],
  UserOpt: [f(1, "byName", "NamedUserOpt", { oneof: "user" }), f(2, "byID", "uint32", { oneof: "user" })],
  NamedUserOpt: [f(1, "name", "string"), f(2, "input", "int64", always)],
  MergeOp: [f(1, "inputs", "MergeInput", rep)],
  MergeInput: input,
  DiffOp: [f(1, "lower", "DiffInput"), f(2, "upper", "DiffInput")],
  // LowerDiffInput and UpperDiffInput have the same layout.
  DiffInput: input,
};

/** The wire type of a value of this type: varint for numbers and bools, else length-delimited. */
export function wireTypeOf(type: Field["type"]): number {
  return ["bool", "int64", "int32", "uint32", "enum"].includes(type) ? 0 : 2;
}

const messageTypes = new Set(Object.keys(messages));

export function isMessage(type: Field["type"]): boolean {
  return messageTypes.has(type);
}
