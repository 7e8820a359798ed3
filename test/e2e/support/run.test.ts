import { describe, expect, test, vi } from "vitest";
import { retryingTransient } from "./run.ts";

const busy = { code: 1, stderr: "Close_Fd sealing memfd copy: Device or resource busy\n" };

describe("retryingTransient", () => {
  test("tries again only while the run fails with the machine's transient memfd error, at most three times", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const answers = (...results: { code: number; stderr: string }[]) => vi.fn(async () => results.shift()!);
    const recovers = answers(busy, { code: 0, stderr: "" });
    expect((await retryingTransient(recovers)).code).toBe(0);
    expect(recovers).toHaveBeenCalledTimes(2);
    const other = answers({ code: 1, stderr: "Error: no such image" }, { code: 0, stderr: "" });
    expect((await retryingTransient(other)).code).toBe(1);
    expect(other).toHaveBeenCalledTimes(1);
    const stuck = answers(busy, busy, busy, { code: 0, stderr: "" });
    expect(await retryingTransient(stuck)).toBe(busy);
    expect(stuck).toHaveBeenCalledTimes(3);
    warn.mockRestore();
  });
});
