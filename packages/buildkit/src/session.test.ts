import { EventEmitter } from "node:events";
import { create } from "@bufbuild/protobuf";
import grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { PacketSchema, PacketType } from "./proto.js";
import { metadataValues, packetChannel } from "./session.js";

describe("the daemon's call metadata", () => {
  it("splits the repeated values Node's HTTP/2 joined, and unescapes encoded ones", () => {
    const metadata = new grpc.Metadata();
    // What grpc-js hands over for two `exclude-patterns` header fields.
    metadata.set("exclude-patterns", "ignored, *.log, !keep.log");
    metadata.set("include-patterns", "caf%C3%A9%2C+x, b");
    metadata.set("include-patterns-encoded", "1");
    expect(metadataValues(metadata, "exclude-patterns")).toEqual(["ignored", "*.log", "!keep.log"]);
    expect(metadataValues(metadata, "include-patterns")).toEqual(["café, x", "b"]);
    expect(metadataValues(metadata, "followpaths")).toEqual([]);
  });
});

/** A DiffCopy call whose transport is full (every write asks to wait for a drain) until the daemon drops it. */
class FullCall extends EventEmitter {
  destroyed = false;
  cancelled = false;
  write(): boolean {
    return false;
  }
  cancel(): void {
    this.cancelled = true;
    this.emit("cancelled");
  }
}

describe("a FileSync call the daemon drops", () => {
  const call = () => new FullCall() as unknown as grpc.ServerDuplexStream<never, never> & FullCall;
  const packet = create(PacketSchema, { type: PacketType.PACKET_DATA, ID: 1 });

  it("fails a send that waits for a drain, and every later send", async () => {
    const dropped = call();
    const channel = packetChannel(dropped, "context");
    const waiting = channel.send(packet);
    dropped.cancel();
    await expect(waiting).rejects.toThrow("the daemon closed the FileSync call");
    await expect(channel.send(packet)).rejects.toThrow("the daemon closed the FileSync call");
    expect(dropped.listenerCount("drain")).toBe(0);
  });

  it("ends a read that waits for the next message", async () => {
    const dropped = call();
    const reading = packetChannel(dropped, "context").receive()[Symbol.asyncIterator]().next();
    dropped.cancel();
    await expect(reading).rejects.toThrow("the daemon closed the FileSync call");
  });
});
