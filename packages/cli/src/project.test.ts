/** compileProject: the embedding API, with a configuration file or value. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { compileProject } from "./index.js";

function scratch(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dockwright-project-")));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, "root"));
  fs.writeFileSync(path.join(dir, "root", "requirements.txt"), "numpy==2.0.0\n");
  return dir;
}

const settings = { parent_image: "python:3.12-slim", requirements: "requirements.txt", allow_download_from_code_repository: false, allow_download_from_artifact_store: false };

test("a configuration value: the plan, each backend's files, written where they say", async () => {
  const dir = scratch();
  const project = await compileProject({ config: { settings: { docker: settings } }, cwd: dir, root: "root", out: "out", targets: ["dockerfile", "llb"], mode: "plain" });
  expect(project.diagnostics).toEqual([]);
  expect(project.plan?.pipeline).toBe("pipeline");
  expect(project.planFile).toBe(path.join(dir, "out", "plan.json"));
  const [image] = project.images;
  expect(image).toMatchObject({ key: "orchestrator", tag: "zenml:pipeline-orchestrator", mode: "build", reusable: false, sources: { mode: "include" }, folder: path.join(dir, "out", "orchestrator") });
  expect(Object.keys(image!.files)).toEqual(["dockerfile", "llb"]);
  const dockerfile = String(image!.files.dockerfile?.["Dockerfile"]);
  expect(dockerfile).toMatch(/^FROM python:3\.12-slim\n/);
  expect(dockerfile).toContain("--no-cache-dir"); // plain mode
  expect(fs.readFileSync(path.join(image!.folder, "Dockerfile"), "utf8")).toBe(dockerfile);
  expect(image!.files.llb?.["llb.pb"]).toBeInstanceOf(Uint8Array);
  expect(image!.files.dockerfile?.[".zenml_user_requirements"]).toBe("numpy==2.0.0\n");
});

test("user mistakes come back as diagnostics, the unreadable file as well", async () => {
  const dir = scratch();
  const invalid = await compileProject({ config: { settings: { docker: { ...settings, apt_packages: ["no spaces"] } } }, cwd: dir, root: "root", out: "out" });
  expect(invalid.plan).toBeUndefined();
  expect(invalid.images).toEqual([]);
  expect(invalid.diagnostics).toMatchObject([{ severity: "error", path: "settings.docker.apt_packages[0]" }]);
  expect(fs.existsSync(path.join(dir, "out", "plan.json"))).toBe(false);

  const missing = await compileProject({ config: "nowhere.yaml", cwd: dir });
  expect(missing.diagnostics).toEqual([{ code: "INVALID_CONFIG", severity: "error", path: "nowhere.yaml", message: expect.stringContaining("no such file") }]);
});
