import { describe, expect, test } from "vitest";
import { commandsFor } from "./commands.js";
import { formatDiagnostic } from "./diagnostics.js";
import type { Layer, RequirementsOrigin } from "./ir.js";
import { loadIncludes, normalizeName, resolveRequirements, type RequirementSource, type RequirementTarget } from "./requirements.js";

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
