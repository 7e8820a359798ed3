import { describe, expect, it } from "vitest";
import { registryCodes } from "./errors.js";
import { mediaTypes, parseImageConfig, parseManifest } from "./manifest.js";

const where = { registry: "r.io", reference: "r.io/app:v1" };
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const digest = `sha256:${"a".repeat(64)}`;
const descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: 3 };

describe("manifests and configurations", () => {
  it("tells indexes from manifests by the document's media type, else Content-Type, else shape", () => {
    const manifest = { schemaVersion: 2, config: { ...descriptor, mediaType: "application/vnd.oci.image.config.v1+json" }, layers: [descriptor] };
    expect(parseManifest(json(manifest), `${mediaTypes.dockerManifest}; charset=utf-8`, where)).toMatchObject({ kind: "manifest", mediaType: mediaTypes.dockerManifest });
    expect(parseManifest(json({ ...manifest, mediaType: mediaTypes.ociManifest }), mediaTypes.dockerManifest, where)).toMatchObject({ mediaType: mediaTypes.ociManifest });
    expect(parseManifest(json(manifest), null, where)).toMatchObject({ kind: "manifest", mediaType: mediaTypes.ociManifest });
    const index = { schemaVersion: 2, manifests: [{ ...descriptor, mediaType: mediaTypes.ociManifest, platform: { os: "linux", architecture: "amd64", "os.features": [] } }] };
    expect(parseManifest(json(index), mediaTypes.dockerList, where)).toEqual({
      kind: "index",
      mediaType: mediaTypes.dockerList,
      manifests: [{ mediaType: mediaTypes.ociManifest, digest, size: 3, platform: { os: "linux", architecture: "amd64" } }],
    });
  });

  it("refuses schema 1, malformed documents and unknown media types clearly", () => {
    const cases: [unknown, string | null, string][] = [
      [{ schemaVersion: 1, fsLayers: [] }, null, "schema 1, which Docker retired"],
      [{ schemaVersion: 2, manifests: [{ digest: "sha256:short", size: 1, mediaType: "x" }] }, mediaTypes.ociIndex, "the index is malformed (manifests.0.digest: not a digest)"],
      [{ schemaVersion: 2, config: {}, layers: [] }, mediaTypes.ociManifest, "the manifest is malformed (config.mediaType"],
      [{ schemaVersion: 2 }, "text/html", 'media type "text/html"'],
      [[1, 2], null, "not a JSON object"],
    ];
    for (const [doc, type, message] of cases) {
      expect(() => parseManifest(json(doc), type, where)).toThrow(message);
    }
    expect(() => parseManifest(Buffer.from("<html>"), null, where)).toThrow(expect.objectContaining({ code: registryCodes.BAD_RESPONSE, registry: "r.io" }));
  });

  it("reads an image configuration, dropping Docker's nulls and keeping unknown fields", () => {
    const config = parseImageConfig(json({
      architecture: "amd64", os: "linux", created: "2024-01-01T00:00:00Z",
      config: { Env: ["PATH=/usr/bin"], Cmd: null, Entrypoint: null, Labels: null, User: "", OnBuild: null, ArgsEscaped: true },
      rootfs: { type: "layers", diff_ids: [digest] },
      history: [{ created_by: "/bin/sh -c #(nop) ADD file", empty_layer: false }],
      "moby.buildkit.buildinfo.v1": "e30=",
    }), where);
    expect(config.config).toEqual({ Env: ["PATH=/usr/bin"], User: "", ArgsEscaped: true });
    expect((config as Record<string, unknown>)["moby.buildkit.buildinfo.v1"]).toBe("e30=");
    expect(() => parseImageConfig(json({ os: "linux", rootfs: { type: "layers", diff_ids: [] } }), where)).toThrow("the image configuration is malformed (architecture");
    expect(() => parseImageConfig(json({ architecture: "amd64", os: "linux", config: { Env: "PATH=/bin" }, rootfs: { type: "layers", diff_ids: [] } }), where)).toThrow("config.Env");
  });
});
