/** `dockwright init`, in-process: the starter configuration it writes compiles as it is. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import type { Io } from "../io.js";
import { main } from "../main.js";

function folder(files: Record<string, string> = {}): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dockwright-init-")));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [file, contents] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), contents);
  }
  return dir;
}

async function run(args: string[], cwd: string) {
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd, env: {}, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

const settingLines = (text: string) => text.split("\n").filter((line) => /^\s*[a-z_]+:/.test(line)).map((line) => line.trim());

describe("dockwright init", () => {
  test("names the requirements.txt it finds, and the starter compiles", async () => {
    const dir = folder({ "requirements.txt": "pandas==2.2.2\n", "run.py": "" });
    expect(await run(["init"], dir)).toEqual({ code: 0, stdout: "wrote pipeline.yaml (requirements: requirements.txt); compile it with `dockwright compile pipeline.yaml`.\n", stderr: "" });
    const text = fs.readFileSync(path.join(dir, "pipeline.yaml"), "utf8");
    expect(settingLines(text)).toEqual(["settings:", "docker:", "requirements: requirements.txt    # found in this folder", "allow_download_from_artifact_store: false"]);
    expect(text).toContain("# apt_packages:");

    const compiled = await run(["compile", "pipeline.yaml", "--out", path.join(dir, "..", `${path.basename(dir)}-out`)], dir);
    onTestFinished(() => fs.rmSync(path.join(dir, "..", `${path.basename(dir)}-out`), { recursive: true, force: true }));
    expect(compiled.stderr).toBe("");
    expect(compiled.code).toBe(0);
    const user = fs.readFileSync(path.join(dir, "..", `${path.basename(dir)}-out`, "orchestrator", ".zenml_user_requirements"), "utf8");
    expect(user).toBe("pandas==2.2.2\n");
  });

  test("names a pyproject.toml when there is no requirements.txt", async () => {
    const dir = folder({ "pyproject.toml": "[project]\nname = 'x'\n" });
    expect((await run(["init", "train.yaml"], dir)).stdout).toBe("wrote train.yaml (pyproject_path: pyproject.toml); compile it with `dockwright compile train.yaml`.\n");
    expect(settingLines(fs.readFileSync(path.join(dir, "train.yaml"), "utf8"))).toEqual(["settings:", "docker:", "pyproject_path: pyproject.toml    # found in this folder", "allow_download_from_artifact_store: false"]);
  });

  test("with nothing to find, every setting but where the code comes from stays a comment", async () => {
    const dir = folder();
    expect((await run(["init"], dir)).code).toBe(0);
    const text = fs.readFileSync(path.join(dir, "pipeline.yaml"), "utf8");
    expect(settingLines(text)).toEqual(["settings:", "docker:", "allow_download_from_artifact_store: false"]);
    expect(text).toContain("# requirements: requirements.txt");
  });

  test("below a folder holding .zen, paths are relative to the configuration's folder, and the root is named", async () => {
    const dir = folder({ ".zen/config.yaml": "", "pipelines/train/requirements.txt": "numpy\n" });
    const result = await run(["init"], path.join(dir, "pipelines/train"));
    expect(result.stdout).toContain("(requirements: requirements.txt)");
    expect(result.stdout).toContain(`The source root, whose files go into the image, is ${dir} (it holds .zen).`);
  });

  test("never overwrites a file, and writes only YAML", async () => {
    const dir = folder({ "pipeline.yaml": "mine\n" });
    const again = await run(["init"], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('dockwright: "pipeline.yaml" exists and is left as it is. Pass another file name: `dockwright init other.yaml`.\n');
    expect(fs.readFileSync(path.join(dir, "pipeline.yaml"), "utf8")).toBe("mine\n");
    expect((await run(["init", "run.json"], dir)).code).toBe(2);
    expect(fs.existsSync(path.join(dir, "run.json"))).toBe(false);
  });
});
