import grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { metadataValues } from "./session.js";

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
