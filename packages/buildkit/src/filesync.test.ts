/**
 * The FileSync sender against exchanges recorded from buildkitd v0.11.6 (testdata/, recorded by
 * test/buildkit/session.test.ts with DOCKWRIGHT_RECORD_FILESYNC=1): given the daemon's packets,
 * it sends the recorded listing, packet for packet, and each requested file's bytes.
 */
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { goFileMode, sendDirectory, type PacketChannel } from "./filesync.js";
import { treeFilter, writeSyncTree } from "./filesync.testing.js";
import { PacketSchema, PacketType, type Packet } from "./proto.js";

const scratch = mkdtempSync(path.join(tmpdir(), "dockwright-filesync-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Recording = { daemon: string; packets: { direction: "sent" | "received"; packet: JsonValue }[] };

function load(name: string): { sent: Packet[]; received: Packet[] } {
  const recording = JSON.parse(readFileSync(path.join(import.meta.dirname, "testdata", name), "utf8")) as Recording;
  const of = (direction: string) => recording.packets.filter((p) => p.direction === direction).map((p) => fromJson(PacketSchema, p.packet));
  return { sent: of("sent"), received: of("received") };
}

/**
 * Replays the daemon's side: its REQs once the listing is complete (the daemon asks only for
 * entries it has seen), its FIN once every requested file has ended.
 */
async function replay(dir: string, received: Packet[]): Promise<Packet[]> {
  const sent: Packet[] = [];
  let listed!: () => void;
  let delivered!: () => void;
  const listingDone = new Promise<void>((resolve) => (listed = resolve));
  const filesDone = new Promise<void>((resolve) => (delivered = resolve));
  const requests = received.filter((p) => p.type === PacketType.PACKET_REQ).length;
  let ended = 0;
  const channel: PacketChannel = {
    async send(packet) {
      sent.push(packet);
      if (packet.type === PacketType.PACKET_STAT && !packet.stat) listed();
      if (packet.type === PacketType.PACKET_DATA && packet.data.length === 0 && ++ended === requests) delivered();
    },
    async *receive() {
      await listingDone;
      for (const packet of received) {
        if (packet.type === PacketType.PACKET_FIN && requests > 0) await filesDone;
        yield packet;
      }
    },
  };
  await sendDirectory(channel, dir, treeFilter);
  return sent;
}

/** The listing, with owners as this machine has them (the recording was made as root). */
function listing(packets: Packet[], uid: number, gid: number) {
  return packets.filter((p) => p.type === PacketType.PACKET_STAT).map((p) => (p.stat ? { ...p.stat, uid, gid } : null));
}

function contents(packets: Packet[]): Map<number, string> {
  const files = new Map<number, string>();
  for (const p of packets.filter((p) => p.type === PacketType.PACKET_DATA)) files.set(p.ID, (files.get(p.ID) ?? "") + Buffer.from(p.data).toString("hex"));
  return files;
}

describe("FileSync against recorded exchanges", () => {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const dir = path.join(scratch, "tree");
  writeSyncTree(dir);

  it("sends the recorded listing and the requested files, then answers FIN", async () => {
    const recorded = load("filesync-tree.json");
    const sent = await replay(dir, recorded.received);
    expect(listing(sent, uid, gid)).toEqual(listing(recorded.sent, uid, gid));
    expect(contents(sent)).toEqual(contents(recorded.sent));
    expect(sent.at(-1)?.type).toBe(PacketType.PACKET_FIN);
    // The order fsutil checks: a folder, then its entries, before names that sort between.
    expect(listing(sent, uid, gid).map((s) => s?.path)).toEqual(["a", "a/sub", "a/x.txt", "a.b", "big.bin", "bin", "bin/run.sh", "empty", "hard", "keep.log", "link", undefined]);
    // The big file in chunks of 256 KiB, then the empty DATA that ends it.
    const big = listing(sent, uid, gid).findIndex((s) => s?.path === "big.bin");
    expect(sent.filter((p) => p.type === PacketType.PACKET_DATA && p.ID === big).map((p) => p.data.length)).toEqual([262144, 1000, 0]);
  });

  it("after one change, the daemon asks for that file alone, and gets it", async () => {
    writeFileSync(path.join(dir, "a/x.txt"), "x, changed\n");
    utimesSync(path.join(dir, "a/x.txt"), 1_700_000_100.5, 1_700_000_100.5);
    const recorded = load("filesync-tree-resync.json");
    expect(recorded.received.filter((p) => p.type === PacketType.PACKET_REQ).map((p) => p.ID)).toEqual([2]);
    const sent = await replay(dir, recorded.received);
    expect(listing(sent, uid, gid)).toEqual(listing(recorded.sent, uid, gid));
    expect(contents(sent)).toEqual(new Map([[2, Buffer.from("x, changed\n").toString("hex")]]));
  });

  it("stops on the daemon's ERR with its message", async () => {
    const received = [create(PacketSchema, { type: PacketType.PACKET_ERR, data: Buffer.from("disk full") })];
    await expect(replay(dir, received)).rejects.toThrow("buildkitd: disk full");
  });
});

describe("Go's os.FileMode", () => {
  it.each([
    [0o100644, 0o644],
    [0o040755, 2 ** 31 + 0o755],
    [0o120777, 2 ** 27 + 0o777],
    [0o104755, 2 ** 23 + 0o755],
    [0o042775, 2 ** 31 + 2 ** 22 + 0o775],
    [0o041777, 2 ** 31 + 2 ** 20 + 0o777],
    [0o010644, 2 ** 25 + 0o644],
    [0o020666, 2 ** 26 + 2 ** 21 + 0o666],
    [0o060660, 2 ** 26 + 0o660],
  ])("encodes st_mode %o", (mode, go) => {
    expect(goFileMode(mode)).toBe(go);
  });
});
