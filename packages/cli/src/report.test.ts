import { codes, error, warning } from "@dockwright/core";
import { expect, test } from "vitest";
import { reporter } from "./report.js";

function capture(json: boolean) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = reporter({ cwd: "/", env: {}, stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), stderrIsTTY: false }, "compile", json);
  return { out, stdout, stderr };
}

const shared = "the parent \"python:3.11-slim\" is not resolved";
const list = [
  warning(codes.UNSUPPORTED_BY_BACKEND, "images.orchestrator", shared),
  error(codes.INVALID_CONFIG, "images.trainer", "another problem"),
  warning(codes.UNSUPPORTED_BY_BACKEND, "images.trainer.orchestrator", shared),
  warning(codes.UNSUPPORTED_BY_BACKEND, "images.orchestrator", shared),
  warning(codes.UNSUPPORTED_BY_BACKEND, "images.other", "the parent \"python:3.12-slim\" is not resolved"),
];

test("for people, one line per message, naming every setting it concerns in order", () => {
  const { out, stderr } = capture(false);
  out.diagnostics(list);
  expect(stderr.join("")).toBe([
    `warning UNSUPPORTED_BY_BACKEND at images.orchestrator, images.trainer.orchestrator: ${shared}`,
    "error INVALID_CONFIG at images.trainer: another problem",
    "warning UNSUPPORTED_BY_BACKEND at images.other: the parent \"python:3.12-slim\" is not resolved",
    "",
  ].join("\n"));
});

test("for tools, one event per diagnostic, each with its own path", () => {
  const { out, stdout } = capture(true);
  out.diagnostics(list);
  expect(stdout.map((line) => JSON.parse(line).path)).toEqual(list.map((d) => d.path));
});

test("a warning is one escaped line on standard error for people, a warning event for tools", () => {
  const people = capture(false);
  people.out.warn("cannot reach registry r:9 (ECONNREFUSED)\nerror FORGED: x");
  expect(people.stderr.join("")).toBe("dockwright: warning: cannot reach registry r:9 (ECONNREFUSED)\\nerror FORGED: x\n");
  expect(people.stdout).toEqual([]);
  const tools = capture(true);
  tools.out.warn("cannot reach registry r:9 (ECONNREFUSED)");
  expect(tools.stdout.map((line) => JSON.parse(line))).toEqual([{ event: "warning", message: "cannot reach registry r:9 (ECONNREFUSED)" }]);
  expect(tools.stderr).toEqual([]);
});
