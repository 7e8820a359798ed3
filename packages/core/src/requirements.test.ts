import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { commandsFor } from "./commands.js";
import { formatDiagnostic } from "./diagnostics.js";
import type { Layer, RequirementsOrigin } from "./ir.js";
import { loadIncludes, logicalLines, normalizeName, resolveRequirements, type RequirementSource, type RequirementTarget } from "./requirements.js";

const linux311: RequirementTarget = { pythonVersion: "3.11", platform: { os: "linux", architecture: "amd64" } };

const user = (text: string, index = 0): RequirementSource => ({ origin: "user", text, from: `settings.docker.requirements[${index}]` });
const userFile = (file: string, text: string): RequirementSource => ({ origin: "user", text, from: "settings.docker.requirements", file });
const integration = (name: string, ...requirements: string[]): RequirementSource => ({ origin: "integrations", text: requirements.join("\n"), from: `integration ${name}` });
const source = (origin: RequirementsOrigin, text: string, from: string = origin): RequirementSource => ({ origin, text, from });

/** ZenML writes one file per origin: sources of one origin given apart are joined, as a list setting is. */
function joined(sources: RequirementSource[]): RequirementSource[] {
  const byOrigin = new Map<string, RequirementSource>();
  for (const s of sources) {
    const earlier = byOrigin.get(s.origin);
    byOrigin.set(s.origin, earlier ? { ...earlier, text: `${earlier.text}\n${s.text}`, from: earlier.from === s.from ? s.from : earlier.from.replace(/\[\d+\]$/, "") } : s);
  }
  return [...byOrigin.values()];
}

function resolve(sources: RequirementSource[], target = linux311, includes = new Map<string, string>()) {
  const result = resolveRequirements(joined(sources), target, includes);
  return {
    files: result.files.map((f) => `${f.origin}${f.afterSources ? " (after sources)" : ""}: ${f.lines.map((l) => l.text).join(" | ")}`),
    messages: result.diagnostics.map(formatDiagnostic),
    result,
  };
}

describe("conflicts", () => {
  test("within one file pip installs at once: an error naming both", () => {
    const { messages } = resolve([userFile("requirements.txt", "pandas\nnumpy>=1.20,<1.22\nNumPy>=1.23\n")]);
    expect(messages).toEqual([
      'error REQUIREMENTS_CONFLICT at settings.docker.requirements: numpy is required as "numpy>=1.20,<1.22" by requirements.txt:2 (settings.docker.requirements) and as "NumPy>=1.23" by requirements.txt:3 (settings.docker.requirements), one file that pip installs at once, and no version satisfies both. Change or remove one of them.',
    ]);
  });

  test("a later file's pin wins over an earlier file's range, as in ZenML: a warning naming both", () => {
    expect(resolve([integration("pytorch", "torch>=2"), user("torch==1.12.0")]).messages).toEqual([
      'warning REQUIREMENTS_CONFLICT at settings.docker.requirements[0]: torch is required as "torch==1.12.0" by settings.docker.requirements[0], which no version of the earlier as "torch>=2" by integration pytorch satisfies. ZenML installs the files in order, so this later requirement wins and replaces the version; what the earlier file installed for it may break. Align the two.',
    ]);
  });

  test.each([
    ["pandas==1.*", "pandas>=2"],
    ["scipy~=1.10.0", "scipy>=1.11"],
    ["scipy~=1.10", "scipy>=2.0"],
    ["attrs==23.1.0", "attrs!=23.1.0"],
    ["attrs==23.1", "attrs!=23.1.*"],
    ["attrs==1!1.0", "attrs<2"],
    ["protobuf>=3.6.0,<4.0.0", "protobuf==4.21.0"],
    ["foo<=1.0", "foo>1.0"],
    ["foo<1.0", "foo>=1.0"],
    ["foo>=2.0rc1", "foo<2.0rc1"],
    ["foo>=2; python_version >= '3.10'", "foo<2"],
    ["foo==1; platform_machine == 'x86_64' and sys_platform == 'linux'", "foo==2"],
    ["foo==1; python_full_version >= '3.8'", "foo==2"],
    ["foo==1; extra != 'gpu'", "foo==2"],
  ])("%s against %s", (a, b) => {
    const { messages } = resolve([user(a, 0), user(b, 1)]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^error REQUIREMENTS_CONFLICT/);
  });

  test("three requirements that conflict only together are named together", () => {
    const { messages } = resolve([user("foo!=1", 0), user("foo>=1,<=2", 1), user("foo<=1", 2)]);
    expect(messages).toEqual([
      'error REQUIREMENTS_CONFLICT at settings.docker.requirements: foo is required as "foo!=1" by settings.docker.requirements, as "foo>=1,<=2" by settings.docker.requirements and as "foo<=1" by settings.docker.requirements, one file that pip installs at once, and no version satisfies all of them. Change or remove one of them.',
    ]);
  });

  test("one error per package", () => {
    const { messages } = resolve([user("torch==1.0", 0), user("torch==2.0", 1), user("torch==3.0", 2), user("numpy==1", 3), user("numpy==2", 4)]);
    expect(messages.map((m) => m.split(":")[1]!.trim().split(" ")[0])).toEqual(["torch", "numpy"]);
  });

  test("a conflict inside an included file names the included file", () => {
    const includes = new Map([["/src/reqs/base.txt", "# pinned\nrequests==2.0.0\n"]]);
    const { messages } = resolve([userFile("/src/reqs/dev.txt", "-r base.txt\nrequests>=2.31")], linux311, includes);
    expect(messages).toEqual([
      'error REQUIREMENTS_CONFLICT at settings.docker.requirements: requests is required as "requests==2.0.0" by /src/reqs/base.txt:2 (settings.docker.requirements) and as "requests>=2.31" by /src/reqs/dev.txt:2 (settings.docker.requirements), one file that pip installs at once, and no version satisfies both. Change or remove one of them.',
    ]);
  });

  test("the user's requirements over the local environment's pins: the user's win", () => {
    const { messages } = resolve([source("local", "numpy==1.26.4\npandas==2.2.0\n", "settings.docker.replicate_local_python_environment"), user("numpy>=2")]);
    expect(messages).toEqual([expect.stringMatching(/^warning REQUIREMENTS_CONFLICT at settings.docker.requirements\[0\]: numpy is required as "numpy>=2"/)]);
  });
});

describe("what is never reported", () => {
  test.each([
    ["a URL", "torch @ https://download.pytorch.org/whl/torch-1.0-cp311-linux_x86_64.whl", "torch>=2"],
    ["a VCS URL", "git+https://github.com/org/torch@v1#egg=torch", "torch>=2"],
    ["a local path", "-e ./vendor/torch", "torch==1"],
    ["a file URL", "torch @ file:./vendor/torch", "torch==1"],
    ["a marker for another platform", "foo==1; sys_platform == 'win32'", "foo==2"],
    ["a marker for another Python", "foo==1; python_version < '3.8'", "foo==2"],
    ["a marker for another machine", "foo==1; platform_machine == 'aarch64'", "foo==2"],
    ["a marker that cannot be known", "foo==1; platform_release >= '6'", "foo==2"],
    ["a patch release that cannot be known", "foo==1; python_full_version >= '3.11.4'", "foo==2"],
    ["the interpreter, which the parent image decides", "foo==1; implementation_name == 'pypy'", "foo==2"],
    ["an extra", "foo==1; extra == 'gpu'", "foo==2"],
    ["arbitrary equality", "foo===1.0-weird", "foo==2"],
    ["local version labels", "torch==2.0.0+cpu", "torch==2.0.0"],
    ["different local labels of one version", "torch!=2.0.0+cu118", "torch==2.0.0"],
    ["equal versions written differently", "foo==2", "foo==2.0.0"],
    ["exclusions only", "foo!=1.0", "foo!=2.0"],
    ["a post-release after `>` (PEP 440 fine print, widened)", "foo>1.0", "foo<=1.0.post1"],
    ["a pre-release before `<` (PEP 440 fine print, widened)", "foo<2.0", "foo>=2.0.dev1,<2.0rc1"],
    ["no specifier", "foo", "foo==1"],
  ])("%s", (_, a, b) => {
    expect(resolve([user(a, 0), user(b, 1)]).messages).toEqual([]);
  });

  test("markers are evaluated for the image's machine, not this one", () => {
    const arm: RequirementTarget = { pythonVersion: "3.11", platform: { os: "linux", architecture: "arm64" } };
    const sources = [user("foo==1; platform_machine == 'x86_64'", 0), user("foo==2", 1)];
    expect(resolve(sources, arm).messages).toEqual([]);
    expect(resolve(sources, linux311).messages).toHaveLength(1);
  });

  test("markers are evaluated for the image's Python", () => {
    const sources = [user('foo==1; python_version >= "3.12"', 0), user("foo==2", 1)];
    expect(resolve(sources).messages).toEqual([]);
    expect(resolve(sources, { ...linux311, pythonVersion: "3.12" }).messages).toHaveLength(1);
  });
});

describe("the files keep ZenML's contents", () => {
  test("nothing is merged or moved: each file is its text, as ZenML writes it", () => {
    const { result } = resolve([integration("aws", "kubernetes\nkubernetes>=21.7,<26\nsagemaker==2.117.0"), userFile("/src/requirements.txt", "# pins\nkubernetes==25.3.0  # ours\n\npandas\n")]);
    expect(result.files.map((f) => [f.origin, f.text])).toEqual([
      ["integrations", "kubernetes\nkubernetes>=21.7,<26\nsagemaker==2.117.0"],
      ["user", "# pins\nkubernetes==25.3.0  # ours\n\npandas\n"],
    ]);
    expect(result.files[1]!.lines.map((l) => [l.text, l.from])).toEqual([
      ["kubernetes==25.3.0", ["/src/requirements.txt:2 (settings.docker.requirements)"]],
      ["pandas", ["/src/requirements.txt:4 (settings.docker.requirements)"]],
    ]);
    expect(normalizeName("Typing.Extensions__x")).toBe("typing-extensions-x");
  });
});

describe("requirements files", () => {
  test("comments, continuations, options, URLs and markers are kept working", () => {
    const text = [
      "# Training requirements",
      "--index-url https://pypi.example.com/simple",
      "--extra-index-url=https://download.pytorch.org/whl/cpu",
      "-f ./wheels",
      "--trusted-host pypi.example.com",
      "",
      "torch==2.1.0+cpu \\",
      "    --hash=sha256:0123",
      "requests[socks] >= 2.31  # network",
      "pkg @ https://example.com/pkg-1.0.tar.gz#sha256=abc",
      'tomli>=1.1.0; python_version < "3.11"',
      "git+https://github.com/org/tool@v1.2#egg=tool",
    ].join("\n");
    const { files, messages } = resolve([userFile("requirements.txt", text)]);
    expect(messages).toEqual([]);
    expect(files).toEqual([
      "user: --index-url https://pypi.example.com/simple | --extra-index-url=https://download.pytorch.org/whl/cpu | -f ./wheels | --trusted-host pypi.example.com | " +
        'torch==2.1.0+cpu     --hash=sha256:0123 | requests[socks] >= 2.31 | pkg @ https://example.com/pkg-1.0.tar.gz#sha256=abc | tomli>=1.1.0; python_version < "3.11" | git+https://github.com/org/tool@v1.2#egg=tool',
    ]);
  });

  test("includes are inlined, relative to the including file", () => {
    const includes = new Map([
      ["/src/reqs/base.txt", "numpy\n-r ../shared/pins.txt\n"],
      ["/src/shared/pins.txt", "numpy<2\n"],
    ]);
    const { files, messages, result } = resolve([userFile("/src/reqs/dev.txt", "pytest\n-r base.txt\n--requirement=https://example.com/extra.txt")], linux311, includes);
    expect(messages).toEqual([]);
    expect(files).toEqual(["user: --requirement=https://example.com/extra.txt | pytest | numpy | numpy<2"]);
    expect(result.files[0]!.text).toBe("--requirement=https://example.com/extra.txt\npytest\nnumpy\nnumpy<2\n");
  });

  test("loadIncludes reads each included file once, through the caller's reader", async () => {
    const disk: Record<string, string> = { "reqs/base.txt": "-r ../shared/pins.txt\n-r base.txt\n", "shared/pins.txt": "numpy<2\n" };
    const reads: string[] = [];
    const includes = await loadIncludes([userFile("reqs/dev.txt", "-r base.txt\n-r missing.txt\n-r ../../outside.txt"), user("-r reqs/base.txt")], async (path) => {
      reads.push(path);
      return disk[path];
    });
    // Includes may lie anywhere, as the file itself may; `..` past the relative start stays relative.
    expect(reads).toEqual(["reqs/base.txt", "reqs/missing.txt", "../outside.txt", "shared/pins.txt"]);
    expect([...includes.keys()]).toEqual(["reqs/base.txt", "shared/pins.txt"]);
  });

  test("a missing include, a cycle and a constraints file are errors", () => {
    const includes = new Map([["a.txt", "-r b.txt"], ["b.txt", "-r a.txt"]]);
    const { messages } = resolve([userFile("requirements.txt", "-r missing.txt\n-r a.txt\n-c constraints.txt")], linux311, includes);
    expect(messages).toEqual([
      'error FILE_NOT_FOUND at settings.docker.requirements: "-r missing.txt" (requirements.txt:1 (settings.docker.requirements)) includes "missing.txt", which does not exist. Fix the path (it is relative to the including file).',
      'error INVALID_REQUIREMENT at settings.docker.requirements: "-r a.txt" (b.txt:1 (settings.docker.requirements)) includes "a.txt", which includes it again. Remove one of the includes.',
      'error INVALID_REQUIREMENT at settings.docker.requirements: "-c constraints.txt" (requirements.txt:3 (settings.docker.requirements)) names a constraints file, which the image cannot read: generated requirements files are installed before the sources are copied. Write its pins into the requirements instead.',
    ]);
  });

  test.each([
    ["torch=1.0", '"=1.0" uses `=`, which is not a version operator (write `==`)'],
    ["torch>=1.*", '">=1.*": only `==` and `!=` take a `.*` version'],
    ["torch~=1", '"~=1": `~=` needs at least two release numbers, e.g. `~=2.2`'],
    ["torch>=2.0+cpu", '">=2.0+cpu": a local version label (`+...`) is allowed only with `==` and `!=`'],
    ["torch>=two", '"two" is not a PEP 440 version'],
    ["torch[cuda", "its extras are missing a closing `]`"],
    ["foo; os == 'linux'", 'the marker "os == \'linux\'" uses "os", which is not a marker variable'],
    ["foo; python_version >= '3' and", "the marker \"python_version >= '3' and\" ends too early"],
    [">=1.0", "it does not start with a project name"],
  ])("%s is invalid", (line, reason) => {
    const { messages } = resolve([user(line)]);
    expect(messages).toEqual([
      `error INVALID_REQUIREMENT at settings.docker.requirements[0]: ${JSON.stringify(line)} (settings.docker.requirements[0]) is not a valid requirement: ${reason}. Write it as in a requirements file, e.g. \`torch>=2,<3\`, \`pkg @ https://host/pkg.whl\` or \`-e ./lib\`.`,
    ]);
  });
});

describe("local paths", () => {
  test("are installed after the sources, with their file's options", () => {
    const text = "--extra-index-url https://example.com/simple\n-e .\n./libs/common[dev]\nmylib @ file:./libs/mylib\ndist/tool-1.0-py3-none-any.whl\nrequests\n";
    const { files, messages } = resolve([source("pyproject", text), user("-e ./plugins/extra"), integration("s3", "boto3")]);
    expect(messages).toEqual([]);
    expect(files).toEqual([
      "pyproject: --extra-index-url https://example.com/simple | requests",
      "integrations: boto3",
      "pyproject (after sources): --extra-index-url https://example.com/simple | -e . | ./libs/common[dev] | mylib @ file:./libs/mylib | dist/tool-1.0-py3-none-any.whl",
      "user (after sources): -e ./plugins/extra",
    ]);
  });

  test("an absolute path of this machine is left out, with a warning", () => {
    const { files, messages } = resolve([source("local", "numpy==1.26.4\n-e /home/me/project\nproj @ file:///home/me/proj\n", "settings.docker.replicate_local_python_environment")]);
    expect(files).toEqual(["local: numpy==1.26.4"]);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toBe(
      'warning INVALID_PATH at settings.docker.replicate_local_python_environment: "-e /home/me/project" (settings.docker.replicate_local_python_environment) points at an absolute path on this machine, which the image does not have, so it is left out. Use a path relative to the source root, or install the project with `local_project_install_command`.',
    );
  });
});

test("installer flags reach the command as separate words", () => {
  const layer: Extract<Layer, { kind: "requirements" }> = {
    kind: "requirements",
    origin: "user",
    file: ".zenml_user_requirements",
    dest: "/app/.zenml_user_requirements",
    installer: { tool: "pip", args: ["--default-timeout=60", "--no-deps"], noCache: true },
    secrets: [],
    lines: [],
  };
  expect(commandsFor(layer, { cacheMounts: false }).shell).toBe("pip install --no-cache-dir --default-timeout=60 --no-deps -r /app/.zenml_user_requirements");
  expect(commandsFor({ ...layer, installer: { tool: "uv", args: ["--index-strategy=unsafe-best-match"], noCache: false } }, { cacheMounts: true }).shell).toBe(
    "uv pip install --index-strategy=unsafe-best-match -r /app/.zenml_user_requirements",
  );
});

// Issue 13, defect 3: `\r`, `\v`, `\x1c`, U+0085, U+2028 and U+2029 passed as one line, but pip
// splits at them and installed a requirement no plan names.
describe("lines are read as pip reads them", () => {
  const recorded = JSON.parse(readFileSync(new URL("testdata/pip-lines.json", import.meta.url), "utf8")) as {
    cases: { text: string; lines: [number, string][] }[];
  };

  test.each(recorded.cases.map((c) => [JSON.stringify(c.text), c] as const))("%s", (_, { text, lines }) => {
    expect([...logicalLines(text)].map((l) => [l.line, l.text])).toEqual(lines);
  });

  test("a requirement after a line separator is seen, and its conflict reported", () => {
    for (const separator of ["\u2029", "\u2028", "\u0085", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e"]) {
      const { files, messages } = resolve([user("numpy==2.0.0"), user(`--pre${separator}numpy==1.0.0`, 1)]);
      expect(files).toEqual(["user: --pre | numpy==2.0.0 | numpy==1.0.0"]);
      expect(messages).toEqual([expect.stringContaining('numpy is required as "numpy==2.0.0" by settings.docker.requirements and as "numpy==1.0.0" by settings.docker.requirements')]);
    }
  });

  // Found by the long property run: the line was moved to the file installed after the sources,
  // first there, and pip dropped the mark at the start of that file.
  test("a line that starts with a byte order mark (after a line break, not the file's own) is an error", () => {
    expect(resolve([userFile("requirements.txt", "numpy # a\u2028\ufeff--mount=type=bind,source=/,target=/host}\n")]).messages).toEqual([
      expect.stringContaining("starts with a byte order mark (U+FEFF), which pip drops at the start of a file and keeps elsewhere"),
    ]);
    expect(resolve([userFile("requirements.txt", "\ufeffnumpy\n")]).messages).toEqual([]);
  });

  test("a line the generated file cannot hold as it is (a trailing backslash) is an error", () => {
    expect(resolve([userFile("requirements.txt", "numpy \\\\ # joined?\nscipy")]).messages).toEqual([
      expect.stringContaining("ends with a backslash, which pip would join with the next line of the generated requirements file"),
    ]);
  });
});

// Issue 13, defect 11: a credentialed index URL in a requirements file was copied into the image.
describe("credentials in URLs", () => {
  test.each([
    "--extra-index-url https://user:s3cr3t@pypi.example.com/simple",
    "-i https://s3cr3t@pypi.example.com/simple",
    "pkg @ git+https://oauth2:s3cr3t@gitlab.example.com/org/pkg.git",
    "https://user:s3cr3t@example.com/pkg-1.0.tar.gz",
    "--find-links=https://u:s3cr3t@files.example.com/wheels",
    "-r https://u:pa@ss:s3cr3t@example.com/more.txt",
  ])("%s is refused without showing the credential", (line) => {
    const { files, result } = resolve([userFile("requirements.txt", `numpy\n${line}\n`)]);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["CREDENTIAL_IN_URL"]);
    expect(JSON.stringify(result.diagnostics)).not.toMatch(/s3cr3t|pa@ss/);
    expect(files.join("\n")).not.toContain("s3cr3t");
  });

  test.each([
    "--extra-index-url https://${INDEX_USER}:${INDEX_TOKEN}@pypi.example.com/simple",
    "--index-url https://__token__:${PYPI_TOKEN}@pypi.example.com/simple",
    "-i https://${TOKEN}@pypi.example.com/simple",
    "pkg @ git+ssh://git@github.com/org/pkg.git",
    "pkg @ https://example.com/pkg.whl#egg=pkg&x=a@b",
  ])("%s holds none", (line) => {
    expect(resolve([userFile("requirements.txt", line)]).messages).toEqual([]);
  });
});

// Issue 13, defect 8: a 130,000-line include overflowed the stack, duplicates were quadratic,
// and a 4 MiB file took minutes. Each of these now takes seconds (bench/requirements.bench.mjs
// measures them); here they must finish at all.
describe("large and hostile requirements", () => {
  const lines = (count: number, line: (i: number) => string) => Array.from({ length: count }, (_, i) => line(i)).join("\n");

  test("a 130,000-line include", () => {
    const { result } = resolve([userFile("requirements.txt", "-r big.txt")], linux311, new Map([["big.txt", lines(130_000, (i) => `p${i}==1.0`)]]));
    expect(result.diagnostics).toEqual([]);
    expect(result.files[0]!.lines).toHaveLength(130_000);
  });

  test("80,000 duplicate lines, and 80,000 exclusions of one package", () => {
    const duplicates = resolve([userFile("requirements.txt", "numpy==1.0\n".repeat(80_000))]).result;
    expect(duplicates.diagnostics).toEqual([]);
    expect(duplicates.files[0]!.lines).toHaveLength(80_000);
    const exclusions = resolve([userFile("requirements.txt", lines(80_000, (i) => `numpy!=1.${i}`))]).result;
    expect(exclusions.diagnostics).toEqual([]);
    // `!=` splits a version range; past 16 pieces it is widened, so a conflict found stays certain.
    expect(resolve([user(lines(20, (i) => `numpy!=1.${i}`)), user("numpy==1.3", 1)]).messages).toEqual([]);
    expect(resolve([user(lines(3, (i) => `numpy!=1.${i}`)), user("numpy==1.2", 1)]).messages).toEqual([expect.stringContaining("REQUIREMENTS_CONFLICT")]);
  });

  test("includes that include the same file twice, 40 levels deep (2^40 lines if each were inlined again)", () => {
    const includes = new Map(Array.from({ length: 41 }, (_, i) => [`d${i}.txt`, i === 40 ? "last" : `p${i}\n-r d${i + 1}.txt\n-r d${i + 1}.txt`]));
    const { result } = resolve([userFile("requirements.txt", "-r d0.txt")], linux311, includes);
    expect(result.diagnostics).toEqual([]);
    expect(result.files[0]!.lines).toHaveLength(41);
  });

  test("a chain of 10,000 includes", () => {
    const includes = new Map(Array.from({ length: 10_001 }, (_, i) => [`c${i}.txt`, i === 10_000 ? "last" : `p${i}\n-r c${i + 1}.txt`]));
    expect(resolve([userFile("requirements.txt", "-r c0.txt")], linux311, includes).result.files[0]!.lines).toHaveLength(10_001);
  });

  test("a marker of 100,000 terms, and one nested in 100,000 parentheses", () => {
    const terms = lines(100_000, () => "python_version >= '3'").replaceAll("\n", " and ");
    expect(resolve([user(`numpy==1; ${terms}`), user("numpy==2", 1)]).messages).toEqual([expect.stringContaining("REQUIREMENTS_CONFLICT")]);
    expect(resolve([user(`numpy; ${"(".repeat(100_000)}python_version >= '3'${")".repeat(100_000)}`)]).messages).toEqual([
      expect.stringContaining("nests parentheses deeper than 32 levels"),
    ]);
  });

  test.each([" ", "[", "://", "==1,", "'", "a@"])("a 4 MiB line of %j", (piece) => {
    const text = `numpy${piece.repeat(Math.floor((4 * 2 ** 20 - 10) / piece.length))}x`;
    expect(resolve([userFile("requirements.txt", text)]).result.files.length).toBeLessThanOrEqual(1);
  });
});
