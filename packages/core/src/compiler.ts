/**
 * The Compiler: a run configuration in, a BuildPlan out, in one direction (rules, settings per
 * scope, merge, stack, the images ZenML would build, each planned by the stages); backends print
 * the plan through the `emit` hooks.
 */
import semver from "semver";
import { canonicalJson } from "./checksum.js";
import { codes, DiagnosticError, error, hasErrors, show, warning, type Diagnostic } from "./diagnostics.js";
import type { GivenSettings, Settings } from "./fields.js";
import { createHooks, type Artifacts, type CompilerHooks, type EmitOptions } from "./hooks.js";
import type { CompileHost } from "./host.js";
import type { BuildPlan, ImagePlan, Platform } from "./ir.js";
import type { BuildRules } from "./rules.js";
import { checkName, parseRunConfig, substitutePlaceholders } from "./runconfig.js";
import { mergeSettings, parseSettings, revalidate, withDefaults } from "./settings.js";
import { verifyRepository } from "./stages/code.js";
import { planImage } from "./stages/image.js";
import type { CodeContext, ImageInput } from "./stages/input.js";
import { resolveStack } from "./stages/stack.js";
import { repositoryProblems } from "./validate.js";

/** The version plugins check their supported range against. */
export const coreVersion = "0.1.0";

export type Plugin = {
  /** Unique name, used as the tap name. */
  name: string;
  /** Semver range of core versions the plugin supports. */
  core: string;
  apply(compiler: Compiler): void;
};

export type CompileRequest = {
  /** The run configuration: `{settings: {docker}, steps: {name: {settings: {docker}}}, stack, code_repository}`. */
  config: unknown;
  pipelineName: string;
  host: CompileHost;
  /** Python X.Y of the target image (default 3.11). */
  pythonVersion?: string;
  /** `os/arch[/variant]` of the target image (default linux/amd64). */
  platform?: string;
  /** Exec-form entrypoint, only when the caller asks for one. */
  entrypoint?: string[];
  /** The client environment ZenML would see: `${VAR}` placeholders (0.67+) and `ZENML_LOGGING_COLORS_DISABLED`. */
  environment?: Readonly<Record<string, string | undefined>>;
};

export type CompileResult = { plan?: BuildPlan; diagnostics: Diagnostic[] };

type Scope = { name?: string; base: string; given: GivenSettings; settings: Settings };

export class Compiler {
  readonly hooks: CompilerHooks = createHooks();
  readonly plugins: readonly Plugin[];

  constructor(plugins: readonly Plugin[] = []) {
    for (const plugin of plugins) {
      if (!semver.validRange(plugin.core) || !semver.satisfies(coreVersion, plugin.core)) {
        // A programming error of whoever assembles the compiler, not a user mistake.
        throw new Error(
          `${codes.PLUGIN_INCOMPATIBLE}: plugin ${show(plugin.name)} supports @dockwright/core ${show(plugin.core)}, ` +
            `but this is ${coreVersion}. Use a plugin release made for it.`,
        );
      }
      plugin.apply(this);
    }
    this.plugins = plugins;
  }

  /** Compiles a run configuration. User mistakes come back as diagnostics, never as exceptions. */
  async compile(request: CompileRequest): Promise<CompileResult> {
    try {
      return await this.compileOrThrow(request);
    } catch (e) {
      if (e instanceof DiagnosticError) return { diagnostics: e.diagnostics };
      throw e;
    }
  }

  /** Prints one image with a backend registered on the `emit` hook. */
  emit(backend: string, image: ImagePlan, options: EmitOptions = {}): Artifacts {
    const artifacts = this.hooks.emit.get(backend)?.call(image, options);
    if (!artifacts) throw new Error(`no backend ${show(backend)} is registered on the emit hook`);
    return artifacts;
  }

  private async compileOrThrow(request: CompileRequest): Promise<CompileResult> {
    const diagnostics: Diagnostic[] = [];
    const rules = this.hooks.rules.call(undefined);
    if (!rules) {
      return { diagnostics: [error(codes.NO_PRESET, "", "no preset chooses a ZenML release: add `@dockwright/plugin-zenml` to the compiler's plugins.")] };
    }
    const environment = request.environment ?? {};
    const substituted = rules.substituteEnvironmentPlaceholders ? substitutePlaceholders(request.config, environment, diagnostics) : request.config;
    const { config, diagnostics: configProblems } = parseRunConfig(substituted);
    diagnostics.push(...configProblems);
    const nameProblem = checkName(request.pipelineName, "pipeline", "pipeline");
    if (nameProblem) diagnostics.push(nameProblem);
    const platform = parsePlatform(request.platform ?? "linux/amd64", diagnostics);
    const pythonVersion = request.pythonVersion ?? "3.11";
    if (!/^3\.\d{1,2}$/.test(pythonVersion)) {
      diagnostics.push(error(codes.INVALID_VALUE, "python_version", `${show(pythonVersion)} is not a Python version: write X.Y, e.g. 3.11.`));
    }
    if (!config || hasErrors(diagnostics)) return { diagnostics };

    // Each scope is validated on its own; a step's settings merge over the pipeline's and are validated again.
    const parse = (raw: unknown, base: string, scope: Parameters<CompilerHooks["settings"]["call"]>[1]): GivenSettings => {
      const parsed = parseSettings(raw, base, rules);
      diagnostics.push(...parsed.diagnostics);
      return this.hooks.settings.call(parsed.settings, scope);
    };
    const pipelineGiven = parse(config.pipeline, "settings.docker", { kind: "pipeline" });
    const pipeline: Scope = { base: "settings.docker", given: pipelineGiven, settings: withDefaults(pipelineGiven, rules) };
    // A pipeline without listed steps still has one, without settings of its own.
    const listed = config.steps.length > 0 ? config.steps : [{ name: undefined, settings: undefined }];
    const steps: Scope[] = listed.map((step) => {
      if (step.name === undefined) return pipeline;
      const base = `steps.${step.name}.settings.docker`;
      const merged = mergeSettings(pipelineGiven, parse(step.settings, base, { kind: "step", step: step.name }), rules);
      const checked = revalidate(merged, base, rules);
      diagnostics.push(...checked.diagnostics);
      return { name: step.name, base, given: checked.settings, settings: withDefaults(checked.settings, rules) };
    });
    if (hasErrors(diagnostics)) return { diagnostics: unique(diagnostics) };

    const flavors = this.hooks.flavors.call(new Map(), { release: rules.release });
    const integrations = this.hooks.integrations.call(new Map(), { release: rules.release, pythonVersion, platform });
    const stack = resolveStack(config.stack, flavors, integrations, diagnostics);
    if (hasErrors(diagnostics)) return { diagnostics: unique(diagnostics) };
    const stepNames = config.steps.map((s) => s.name);
    if (!stack.containerized) {
      // ZenML builds no images for an orchestrator that runs the steps itself.
      return { plan: { pipeline: request.pipelineName, release: rules.release, images: [], steps: Object.fromEntries(stepNames.map((n) => [n, null])), code: {} }, diagnostics: unique(diagnostics) };
    }

    const code = await this.codeContext(config.codeRepository, request.host, flavors, diagnostics);
    diagnostics.push(...verifyRepository(steps, code, rules));
    if (hasErrors(diagnostics)) return { diagnostics: unique(diagnostics) };

    // ZenML's builds: a step whose settings differ from the pipeline's gets its own; the others share the pipeline's.
    const same = (a: Settings, b: Settings) => canonicalJson(a) === canonicalJson(b);
    const builds: { scope: Scope; key: string }[] = [];
    const keyOfStep = new Map<string | undefined, string>();
    for (const scope of steps) {
      const isPipeline = scope === pipeline || same(scope.settings, pipeline.settings);
      const key = isPipeline ? "orchestrator" : `${scope.name}.orchestrator`;
      if (!builds.some((b) => b.key === key)) builds.push({ scope: isPipeline ? pipeline : scope, key });
      keyOfStep.set(scope.name, key);
    }
    const reuse = !steps.some((scope) => scope.settings.prevent_build_reuse);
    const images: ImagePlan[] = [];
    // Builds with equal settings but for prevent_build_reuse share one image, as ZenML's settings checksum does.
    const imageOf = new Map<string, string>();
    const byIdentity = new Map<string, string>();
    for (const { scope, key } of builds) {
      const { prevent_build_reuse: _, ...identitySettings } = scope.settings;
      const identity = canonicalJson(identitySettings);
      const shared = byIdentity.get(identity);
      if (shared) {
        imageOf.set(key, shared);
        continue;
      }
      byIdentity.set(identity, key);
      imageOf.set(key, key);
      const out: Diagnostic[] = [];
      const input: ImageInput = {
        hooks: this.hooks, host: request.host, rules, settings: scope.settings, given: scope.given, base: scope.base,
        key, ...(scope.name !== undefined && scope !== pipeline ? { step: scope.name } : {}),
        pipeline: request.pipelineName, pythonVersion, platform, stack, code,
        clientEnvironment: environment, integrations, flavors,
        ...(request.entrypoint ? { entrypoint: request.entrypoint } : {}),
        out,
      };
      const planned = await planImage(input, reuse);
      diagnostics.push(...out);
      images.push(...planned.map((image) => this.hooks.plan.call(image)));
    }
    if (hasErrors(diagnostics)) return { diagnostics: unique(diagnostics) };

    const plan: BuildPlan = {
      pipeline: request.pipelineName,
      release: rules.release,
      images,
      steps: Object.fromEntries(stepNames.map((name) => [name, imageOf.get(keyOfStep.get(name)!)!])),
      code: {},
    };
    if (images.some((image) => image.sources.mode === "code-repository") && code.repository) {
      const { type, url, commit, subdirectory } = code.repository;
      plan.code.repository = { type, url, commit, subdirectory };
    }
    if (images.some((image) => image.sources.mode === "artifact-store")) {
      if (request.host.codeArchive) {
        const archive = await request.host.codeArchive();
        diagnostics.push(...archive.diagnostics);
        const packed = { path: archive.path, sha256: archive.sha256 };
        if (request.host.uploadCode) {
          plan.code.archive = { ...packed, ...(await request.host.uploadCode(packed)) };
        } else {
          plan.code.archive = packed;
          diagnostics.push(warning(codes.CODE_NOT_UPLOADED, "settings.docker.allow_download_from_artifact_store",
            `the images hold no code: at run time they download it from the artifact store, but nothing uploaded the archive ${show(archive.path)} (${archive.sha256}). ` +
              "Upload it where the run reads it (the CLI: `--code-upload DIR`), or include the files (`allow_download_from_artifact_store: false`)."));
        }
      } else {
        diagnostics.push(warning(codes.CODE_DOWNLOAD_UNAVAILABLE, "settings.docker.allow_download_from_artifact_store",
          "the images hold no code: they download it from the artifact store, and this host packs no archive of the source root for it. Upload the code yourself, include the files (`allow_download_from_artifact_store: false`), or use a host that packs it."));
      }
    }
    const all = unique(diagnostics);
    return hasErrors(all) ? { diagnostics: all } : { plan, diagnostics: all };
  }

  /** The registered code repository, as the host finds it around the source root. */
  private async codeContext(registered: { type: string; url?: string } | undefined, host: CompileHost, flavors: ReturnType<CompilerHooks["flavors"]["call"]>, diagnostics: Diagnostic[]): Promise<CodeContext> {
    if (!registered) return { usable: false };
    const types = flavors.get("code_repository");
    if (types && !types.has(registered.type)) {
      diagnostics.push(error(codes.INVALID_CONFIG, "code_repository.type", `${show(registered.type)} is not a code repository type of this ZenML release; use ${[...types.keys()].map((t) => `\`${t}\``).join(" or ")}.`));
      return { usable: false };
    }
    const state = await this.hooks.codeRepository.promise({ root: host.root, type: registered.type, ...(registered.url ? { url: registered.url } : {}) });
    if (!state) {
      // As in ZenML, a registration that matches no checkout is no repository; the settings decide whether that is fatal.
      diagnostics.push(warning(codes.CODE_DOWNLOAD_UNAVAILABLE, "code_repository",
        `a ${registered.type} code repository is registered, but the source root ${show(host.root)} is not inside a checkout of it, so no code is downloaded from it. Run from the checkout, or remove \`code_repository\`.`));
      return { usable: false };
    }
    const unsafe = repositoryProblems(state);
    if (unsafe.length > 0) {
      diagnostics.push(warning(codes.CODE_DOWNLOAD_UNAVAILABLE, "code_repository", `the code repository cannot be used: ${unsafe.join("; ")}. Fix the checkout's remote, or include the files.`));
      return { usable: false };
    }
    return { repository: { ...state, type: registered.type }, usable: !state.dirty && !state.unpushed };
  }
}

/**
 * Images of several steps report the same problem once, and a step that inherits a pipeline
 * setting does not repeat what the pipeline's diagnostic says about it.
 */
function unique(diagnostics: Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic, path = d.path) => `${d.code}\0${path}\0${d.message}`;
  const all = new Map(diagnostics.map((d) => [key(d), d]));
  return [...all.values()].filter((d) => {
    const inherited = /^steps\.[^.]+\.(settings\.docker\..*)$/.exec(d.path ?? "")?.[1];
    return inherited === undefined || !all.has(key(d, inherited));
  });
}

function parsePlatform(value: string, diagnostics: Diagnostic[]): Platform {
  const match = /^(linux|windows)\/([a-z0-9_]+)(?:\/(v[0-9]+))?$/.exec(value);
  if (!match) {
    diagnostics.push(error(codes.INVALID_VALUE, "platform", `${show(value)} is not a platform: write os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8.`));
    return { os: "linux", architecture: "amd64" };
  }
  return { os: match[1]!, architecture: match[2]!, ...(match[3] ? { variant: match[3] } : {}) };
}

export type { BuildRules };
