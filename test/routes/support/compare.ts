/** Differences between two views of one image, one line each, and the builders' known artefacts. */
import type { TreeEntry } from "../../e2e/support/images.ts";
import type { RouteName, View } from "./routes.ts";

export type Difference =
  | { kind: "config"; field: keyof View["config"]; want: unknown; got: unknown }
  | { kind: "file"; path: string; want?: TreeEntry; got?: TreeEntry }
  | { kind: "record"; file: string; want?: string; got?: string };

const recordsDir = "var/log/dockwright";

/** Every way `got` differs from `want`. */
export function differences(want: View, got: View): Difference[] {
  const found: Difference[] = [];
  for (const field of Object.keys(want.config) as (keyof View["config"])[]) {
    if (JSON.stringify(want.config[field]) !== JSON.stringify(got.config[field])) found.push({ kind: "config", field, want: want.config[field], got: got.config[field] });
  }
  const wantTree = new Map(want.tree.map((e) => [e.path, e]));
  const gotTree = new Map(got.tree.map((e) => [e.path, e]));
  // The installers' records are compared as text below.
  const recorded = (file: string) => file.startsWith(`${recordsDir}/`) && (wantTree.get(file) ?? gotTree.get(file))?.type === "file";
  for (const file of [...new Set([...wantTree.keys(), ...gotTree.keys()])].filter((f) => !recorded(f)).sort()) {
    const [w, g] = [wantTree.get(file), gotTree.get(file)];
    if (JSON.stringify(w) !== JSON.stringify(g)) found.push({ kind: "file", path: file, ...(w ? { want: w } : {}), ...(g ? { got: g } : {}) });
  }
  for (const file of [...new Set([...Object.keys(want.records), ...Object.keys(got.records)])].sort()) {
    const [w, g] = [want.records[file], got.records[file]];
    if (w !== g) found.push({ kind: "record", file, ...(w !== undefined ? { want: w } : {}), ...(g !== undefined ? { got: g } : {}) });
  }
  return found;
}

export function describeDifference(d: Difference): string {
  const entry = (e?: TreeEntry) => (e ? `${e.type} ${e.mode} ${e.owner}${e.size !== undefined ? ` ${e.size} B` : ""}${e.content ? ` ${e.content.slice(0, 16)}` : ""}` : "absent");
  switch (d.kind) {
    case "config": return `config ${d.field}: ${JSON.stringify(d.want)} -> ${JSON.stringify(d.got)}`;
    case "file": return `/${d.path}: ${entry(d.want)} -> ${entry(d.got)}`;
    case "record": return `record ${d.file}: ${JSON.stringify(d.want)} -> ${JSON.stringify(d.got)}`;
  }
}

/** A difference that is a builder's own, not Dockwright's: which routes show it, what it is, why. */
export type Artefact = { routes: readonly RouteName[]; what: string; why: string; matches(d: Difference): boolean };
