/** Diagnostics quote hostile values; the property suites check each is one line (see support.ts). */
import { Compiler, formatDiagnostic } from "@dockwright/core";
import { zenml } from "@dockwright/plugin-zenml";
import { expect, test } from "vitest";
import { memoryHost } from "../support/memory-host.ts";

// Found by the property suites: show() once cut a long value inside a surrogate pair.
test("a long value quoted in a message keeps its characters whole", async () => {
  const result = await new Compiler([zenml()]).compile({ config: { settings: { docker: { user: `a${"😀".repeat(50)}` } } }, pipelineName: "p", host: memoryHost() });
  expect(result.diagnostics).toHaveLength(1);
  expect(formatDiagnostic(result.diagnostics[0]!)).not.toMatch(/\p{Cs}/u);
});
