/**
 * FileSync's sending side (tonistiigi/fsutil `send.go`), what the daemon reads a `local://NAME`
 * source through: one STAT packet per entry in fsutil's walk order, an empty STAT to end the
 * listing, then the contents of each file the daemon asks for (REQ) in DATA chunks, several files
 * at once, each ended by an empty DATA; FIN answers FIN, ERR aborts. The daemon keeps the files of
 * the last sync under the session's shared key and asks only for what changed (metadata diff).
 *
 * Entries go out in fsutil's order: depth first, a directory before its contents, the entries of
 * each directory sorted by their names' bytes (so `a/` and its contents come before `a.b`).
 */
import { create } from "@bufbuild/protobuf";
import { lstatSync, readdirSync, readFileSync, readlinkSync, type BigIntStats } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { createMatcher, type Matcher, type MatchState } from "@dockwright/context";
import { compareCodePoints } from "@dockwright/core/strings";
import { PacketSchema, PacketType, StatSchema, type Packet, type Stat } from "./proto.js";

/** The two ends of one DiffCopy call, as packets. */
export type PacketChannel = {
  /** Sends a packet; resolves when the transport can take more (backpressure). */
  send(packet: Packet): Promise<void>;
  /** The daemon's packets, until it ends the call. */
  receive(): AsyncIterable<Packet>;
};

/** What the daemon asks of one local directory (the call's metadata). */
export type SyncFilter = {
  includePatterns: readonly string[];
  excludePatterns: readonly string[];
  followPaths: readonly string[];
};

/** Counts of one sync: entries listed, files and bytes of contents sent. */
export type SyncStats = { entries: number; files: number; bytes: number };

/**
 * Contents go in chunks of this size. fsutil uses 32 KiB; through the session's two gRPC layers
 * fewer, larger chunks cost less (a 200 MiB file: about 7 s with 256 KiB, 11 s with 64 KiB, here).
 */
const chunkSize = 256 * 1024;
/** Files sent at once, as fsutil's four senders. */
const parallelFiles = 4;

/** Serves `dir` to one DiffCopy call; resolves with what was sent when the daemon finishes. */
export async function sendDirectory(channel: PacketChannel, dir: string, filter: SyncFilter): Promise<SyncStats> {
  const stats: SyncStats = { entries: 0, files: 0, bytes: 0 };
  // The absolute path of every STAT sent, by its ID (index among all STATs).
  const files: (string | undefined)[] = [];
  const sizes: number[] = [];
  const queue: number[] = [];
  const waiting: (() => void)[] = [];
  const wake = () => waiting.splice(0).forEach((resolve) => resolve());
  let finished = false;
  let failure: Error | undefined;
  const fail = (e: unknown) => {
    failure ??= e instanceof Error ? e : new Error(String(e));
    finished = true;
    wake();
  };

  const walking = walk(dir, filter, async (stat, absolute) => {
    if (finished) return;
    files.push(absolute);
    sizes.push(Number(stat.size));
    stats.entries++;
    await channel.send(create(PacketSchema, { type: PacketType.PACKET_STAT, stat }));
  }).then(() => channel.send(create(PacketSchema, { type: PacketType.PACKET_STAT })));
  // A failed walk is reported to the daemon, as fsutil does, and fails the call.
  walking.catch(async (e: unknown) => {
    fail(e);
    await channel.send(create(PacketSchema, { type: PacketType.PACKET_ERR, data: Buffer.from(errorText(e)) })).catch(() => {});
  });

  const sendFile = async (id: number) => {
    const file = files[id];
    if (file === undefined) throw new Error(`the daemon asked for entry ${id}, which is no regular file sent`);
    for await (const data of chunks(file, sizes[id]!)) {
      stats.bytes += data.length;
      await channel.send(create(PacketSchema, { type: PacketType.PACKET_DATA, ID: id, data }));
      if (failure) return;
    }
    stats.files++;
    await channel.send(create(PacketSchema, { type: PacketType.PACKET_DATA, ID: id }));
  };

  /** The next requested file, or undefined once the call is over. */
  const next = async (): Promise<number | undefined> => {
    while (queue.length === 0 && !finished) await new Promise<void>((resolve) => waiting.push(resolve));
    return failure ? undefined : queue.shift();
  };
  const workers = Array.from({ length: parallelFiles }, async () => {
    for (let id = await next(); id !== undefined; id = await next()) await sendFile(id).catch(fail);
  });

  try {
    for await (const packet of channel.receive()) {
      if (packet.type === PacketType.PACKET_REQ) {
        queue.push(packet.ID);
        wake();
      } else if (packet.type === PacketType.PACKET_FIN) {
        // The daemon sends FIN once it has every file it asked for.
        await channel.send(create(PacketSchema, { type: PacketType.PACKET_FIN }));
        break;
      } else if (packet.type === PacketType.PACKET_ERR) {
        fail(new Error(`buildkitd: ${Buffer.from(packet.data).toString()}`));
      }
      if (failure) break;
    }
  } finally {
    finished = true;
    wake();
    await Promise.all(workers);
  }
  await walking.catch(() => {});
  if (failure) throw failure;
  return stats;
}

/** A file's contents in chunks; a small file in one synchronous read (cheaper than three trips through the thread pool). */
async function* chunks(file: string, size: number): AsyncGenerator<Buffer> {
  if (size < chunkSize) {
    const data = readFileSync(file);
    if (data.length > 0) yield data;
    return;
  }
  const handle = await open(file, "r");
  try {
    for (;;) {
      // A fresh buffer per chunk: the transport may hold it until it is written.
      const buffer = Buffer.allocUnsafe(chunkSize);
      const { bytesRead } = await handle.read(buffer, 0, chunkSize, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Go's os.FileMode bits (fsutil sends modes in Go's encoding, not POSIX's). */
const goMode = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, namedPipe: 2 ** 25, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 };

/** A POSIX `st_mode` in Go's os.FileMode encoding. */
export function goFileMode(mode: number): number {
  let go = mode & 0o777;
  switch (mode & 0o170000) {
    case 0o040000: go += goMode.dir; break;
    case 0o120000: go += goMode.symlink; break;
    case 0o060000: go += goMode.device; break;
    case 0o020000: go += goMode.device + goMode.charDevice; break;
    case 0o010000: go += goMode.namedPipe; break;
  }
  if (mode & 0o4000) go += goMode.setuid;
  if (mode & 0o2000) go += goMode.setgid;
  if (mode & 0o1000) go += goMode.sticky;
  return go;
}

type Emit = (stat: Stat, absolute: string | undefined) => Promise<void>;

/** A directory passed on the way, sent only once something inside it is. */
type Pending = { stat: Stat; sent: boolean };

/**
 * Walks `root` in fsutil's order and emits what the filter keeps. Excludes follow Docker's
 * .dockerignore rules (a directory is skipped when no exception could re-include anything in it);
 * with include patterns, only what they match is sent, with the directories leading to it.
 * `absolute` is set for the regular files whose contents the daemon may ask for.
 */
export async function walk(root: string, filter: SyncFilter, emit: Emit): Promise<void> {
  const excludes = createMatcher(filter.excludePatterns);
  const includePatterns = [...filter.includePatterns, ...filter.followPaths];
  const includes = includePatterns.length > 0 ? createMatcher(includePatterns) : undefined;
  const mayHoldIncluded = includes ? prefixMatcher(includes) : () => true;
  const hardLinks = new Map<string, string>();
  const parents: Pending[] = [];

  const emitWithParents = async (stat: Stat, absolute: string | undefined) => {
    for (const parent of parents) {
      if (!parent.sent) {
        parent.sent = true;
        await emit(parent.stat, undefined);
      }
    }
    await emit(stat, absolute);
  };

  // The file system calls are synchronous (a walk is many small calls, each a costly trip through
  // the thread pool otherwise); sending awaits the transport, and every 256 entries the walk lets
  // the event loop answer the daemon.
  let seen = 0;
  const visit = async (dir: string, rel: string, excluded?: MatchState, included?: MatchState) => {
    const names = readdirSync(dir).sort(compareCodePoints);
    for (const name of names) {
      if (++seen % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
      const relPath = rel ? `${rel}/${name}` : name;
      const absolute = path.join(dir, name);
      const info = lstatSync(absolute, { bigint: true, throwIfNoEntry: false });
      if (!info) continue; // gone since the listing
      const isDir = info.isDirectory();
      const exclusion = excludes.match(relPath, excluded);
      if (exclusion.excluded && (!isDir || excludes.canSkip(relPath))) continue;
      const inclusion = includes?.match(relPath, included);
      const isIncluded = !includes || inclusion!.excluded;
      if (isDir) {
        if (!isIncluded && !mayHoldIncluded(relPath)) continue;
        const pending: Pending = { stat: statOf(relPath, absolute, info, hardLinks), sent: false };
        if (!exclusion.excluded && isIncluded) await emitWithParents(pending.stat, undefined).then(() => (pending.sent = true));
        parents.push(pending);
        await visit(absolute, relPath, exclusion, inclusion);
        parents.pop();
        continue;
      }
      if (exclusion.excluded || !isIncluded || info.isSocket()) continue;
      const stat = statOf(relPath, absolute, info, hardLinks);
      await emitWithParents(stat, info.isFile() && stat.linkname === "" ? absolute : undefined);
    }
  };
  await visit(root, "");
}

/** The Stat fsutil sends for one entry (fsutil `mkstat` and `setUnixOpt`). */
function statOf(rel: string, absolute: string, info: BigIntStats, hardLinks: Map<string, string>): Stat {
  const mode = Number(info.mode);
  const stat = create(StatSchema, {
    path: rel,
    mode: goFileMode(mode),
    uid: Number(info.uid),
    gid: Number(info.gid),
    modTime: info.mtimeNs,
  });
  if (info.isSymbolicLink()) stat.linkname = readlinkSync(absolute);
  else if (info.isFile()) {
    stat.size = info.size;
    if (info.nlink > 1n) {
      // A hard link to a file sent earlier goes as that file's path, with no contents.
      const key = `${info.dev}:${info.ino}`;
      const first = hardLinks.get(key);
      if (first !== undefined) {
        stat.linkname = first;
        stat.size = 0n;
      } else hardLinks.set(key, rel);
    }
  } else if (info.isBlockDevice() || info.isCharacterDevice()) {
    const rdev = Number(info.rdev);
    stat.devmajor = BigInt(((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff));
    stat.devminor = BigInt((rdev & 0xff) | ((rdev >> 12) & ~0xff));
  }
  return stat;
}

/**
 * Could an include pattern match something below `dir`? Compares the pattern's leading path
 * components with the directory's, each as a glob (a `**` component matches any depth).
 */
function prefixMatcher(includes: Matcher): (dir: string) => boolean {
  const patterns = includes.patterns.filter((p) => !p.exclusion).map((p) => p.text.split("/").map(componentTest));
  return (dir) => {
    const parts = dir.split("/");
    return patterns.some((components) => {
      for (let i = 0; i < parts.length; i++) {
        const component = components[i];
        if (component === undefined) return false;
        if (component === "**") return true;
        if (!component(parts[i]!)) return false;
      }
      return true;
    });
  };
}

/** One glob component (`*`, `?`, `[...]`, `\` escapes) as a test; `**` as itself. */
function componentTest(glob: string): "**" | ((name: string) => boolean) {
  if (glob === "**") return "**";
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "\\" && i + 1 < glob.length) source += `\\${glob[++i]}`;
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) source += "\\[";
      else {
        source += `[${glob.slice(i + 1, end).replace(/^\^/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\]\\/]/g, "\\$&");
  }
  const re = new RegExp(`^${source}$`, "u");
  return (name) => re.test(name);
}
