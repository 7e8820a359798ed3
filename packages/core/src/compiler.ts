/**
 * The Compiler: settings in, a BuildPlan out, in one direction (parse, merge, resolve, plan,
 * passes); backends print the plan through the `emit` hooks.
 */
import semver from "semver";
import { canonicalJson } from "./checksum.js";
import {
  codes,
  DiagnosticError,
  error,
  hasErrors,
  show,
  type Diagnostic,
} from "./diagnostics.js";
import { createHooks, type Artifacts, type CompilerHooks, type EmitOptions, type RepositoryState, type Scope } from "./hooks.js";
import type { BuildPlan, ImagePlan, Platform } from "./ir.js";
import { planImage, type CompileHost } from "./lower.js";
import { parseRunConfig, checkName } from "./runconfig.js";
import { parseImageRef } from "./reference.js";
import { checkCombinations, mergeSettings, parseSettings, withDefaults, type GivenSettings } from "./settings.js";

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
  /** The run configuration: `{settings: {docker}, steps: {name: {settings: {docker}}}, stack}`. */
  config: unknown;
  pipelineName: string;
  host: CompileHost;
  /** Python X.Y of the target image (default 3.11). */
  pythonVersion?: string;
  /** `os/arch[/variant]` of the target image (default linux/amd64). */
  platform?: string;
  /** Exec-form entrypoint, only when the caller asks for one. */
  entrypoint?: string[];
};

export type CompileResult = { plan?: BuildPlan; diagnostics: Diagnostic[] };

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
    const { config, diagnostics: configProblems } = parseRunConfig(request.config);
    diagnostics.push(...configProblems);
    const nameProblem = checkName(request.pipelineName, "pipeline", "pipeline");
    if (nameProblem) diagnostics.push(nameProblem);
    const platform = parsePlatform(request.platform ?? "linux/amd64", diagnostics);
    const pythonVersion = request.pythonVersion ?? "3.11";
    if (!/^3\.\d{1,2}$/.test(pythonVersion)) {
      diagnostics.push(error(codes.INVALID_VALUE, "python_version", `${show(pythonVersion)} is not a Python version: write X.Y, e.g. 3.11.`));
    }
    if (!config || hasErrors(diagnostics)) return { diagnostics };

    const parse = (raw: unknown, base: string, scope: Scope): GivenSettings => {
      const parsed = parseSettings(raw, base);
      diagnostics.push(...parsed.diagnostics);
      return this.hooks.settings.call(parsed.settings, scope);
    };
    const pipeline = parse(config.pipeline, "settings.docker", { kind: "pipeline" });
    const scopes = [
      { name: undefined as string | undefined, base: "settings.docker", given: pipeline },
      ...config.steps.map((step) => {
        const base = `steps.${step.name}.settings.docker`;
        return { name: step.name, base, given: mergeSettings(pipeline, parse(step.settings, base, { kind: "step", step: step.name })) };
      }),
    ];
    if (hasErrors(diagnostics)) return { diagnostics };

    // Steps whose merged settings equal the pipeline's (or another step's) share its image.
    const byKey = new Map<string, { key: string; base: string; given: GivenSettings; name?: string }>();
    const steps: Record<string, string> = {};
    for (const scope of scopes) {
      const identity = canonicalJson(scope.given);
      let shared = byKey.get(identity);
      if (!shared) {
        shared = { key: scope.name ?? "pipeline", base: scope.base, given: scope.given, ...(scope.name ? { name: scope.name } : {}) };
        byKey.set(identity, shared);
      }
      if (scope.name !== undefined) steps[scope.name] = shared.key;
    }

    let repository: Promise<RepositoryState | undefined> | undefined;
    const askRepository = () => (repository ??= this.hooks.codeRepository.promise(request.host.root));
    const images: ImagePlan[] = [];
    for (const { key, base, given, name } of byKey.values()) {
      const settings = withDefaults(given);
      const problems = checkCombinations(settings, base);
      const repository = checkRepository(settings.target_repository, `${base}.target_repository`);
      if (repository) problems.push(repository);
      diagnostics.push(...problems);
      if (hasErrors(problems)) continue;
      const planned = await planImage({
        hooks: this.hooks,
        host: request.host,
        settings,
        given,
        base,
        key,
        tag: imageTag(settings.target_repository, request.pipelineName, name),
        pythonVersion,
        platform,
        ...(request.entrypoint ? { entrypoint: request.entrypoint } : {}),
        stack: config.stack,
        repository: askRepository,
      });
      diagnostics.push(...planned.diagnostics);
      images.push(...planned.images.map((image) => this.hooks.plan.call(image)));
    }
    // Images of several steps report the same problem once.
    const unique = [...new Map(diagnostics.map((d) => [`${d.code}\0${d.path}\0${d.message}`, d])).values()];
    if (hasErrors(unique)) return { diagnostics: unique };
    return { plan: { pipeline: request.pipelineName, images: usedImages(images, steps, config.steps.length > 0), steps }, diagnostics: unique };
  }
}

/** The images some step runs in, with the images they are built on; all of them for a pipeline without steps. */
function usedImages(images: ImagePlan[], steps: Record<string, string>, hasSteps: boolean): ImagePlan[] {
  if (!hasSteps) return images;
  const used = new Set(Object.values(steps));
  for (const image of [...images].reverse()) {
    if (used.has(image.key) && image.parent.kind === "plan") used.add(image.parent.key);
  }
  return images.filter((image) => used.has(image.key));
}

/** A repository reference without tag or digest: the tag is Dockwright's. */
function checkRepository(repository: string, path: string): Diagnostic | undefined {
  const parsed = parseImageRef(repository);
  if (parsed.ok && parsed.ref.tag === undefined && parsed.ref.digest === undefined) return undefined;
  return error(codes.INVALID_IMAGE_REF, path,
    `${show(repository)} is not a repository: write \`[registry/]name\` in lower case without tag or digest, e.g. \`zenml\` or \`registry.example.com/team/zenml\`.`);
}

function parsePlatform(value: string, diagnostics: Diagnostic[]): Platform {
  const match = /^(linux|windows)\/([a-z0-9_]+)(?:\/(v[0-9]+))?$/.exec(value);
  if (!match) {
    diagnostics.push(error(codes.INVALID_VALUE, "platform", `${show(value)} is not a platform: write os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8.`));
    return { os: "linux", architecture: "amd64" };
  }
  return { os: match[1]!, architecture: match[2]!, ...(match[3] ? { variant: match[3] } : {}) };
}

/**
 * `<repository>:<pipeline>-orchestrator`, or `<repository>:<pipeline>-<step>-orchestrator` for a
 * step's own image, as the reference system tags them. Tags allow `[A-Za-z0-9_.-]`, 128 at most.
 */
function imageTag(repository: string, pipeline: string, step: string | undefined): string {
  const tag = [pipeline, step, "orchestrator"].filter(Boolean).join("-").replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 128);
  return `${repository}:${tag}`;
}
