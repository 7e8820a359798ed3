/**
 * The stack of the run configuration, as ZenML assembles it: one component per type, the
 * built-in local orchestrator and artifact store where none is given, and for each component the
 * integration that implements its flavor, whose requirements and apt packages the images get.
 */
import { codes, error, show, type Diagnostic } from "../diagnostics.js";
import type { FlavorCatalog, FlavorInfo, IntegrationCatalog, StackComponent } from "../hooks.js";
import { didYouMean } from "../settings.js";
import { integrationClosure } from "./integrations.js";

export type ResolvedStack = {
  components: { type: string; flavor: string; info: FlavorInfo; uri?: string; default_repository?: string }[];
  /** The union of the components' requirements (ZenML's `Stack.requirements()`). */
  requirements: Set<string>;
  /** The components' apt packages, in component order. */
  apt: string[];
  /** The orchestrator runs the steps in these images; a local orchestrator needs none. */
  containerized: boolean;
  registry?: { uri: string; defaultRepository?: string };
};

/** Implicit components ZenML's default stack holds. */
const defaults: Record<string, string> = { orchestrator: "local_docker", artifact_store: "local" };

export function resolveStack(given: readonly StackComponent[], flavors: FlavorCatalog, integrations: IntegrationCatalog, out: Diagnostic[]): ResolvedStack {
  const byType = new Map<string, StackComponent & { index?: number }>();
  given.forEach((component, index) => {
    const at = `stack.components[${index}]`;
    if (byType.has(component.type)) {
      out.push(error(codes.INVALID_CONFIG, at, `a stack holds one component per type, and ${show(component.type)} is given twice. Keep one.`));
      return;
    }
    byType.set(component.type, { ...component, index });
  });
  for (const [type, flavor] of Object.entries(defaults)) if (!byType.has(type)) byType.set(type, { type, flavor });

  const stack: ResolvedStack = { components: [], requirements: new Set(), apt: [], containerized: false };
  if (flavors.size === 0) {
    out.push(error(codes.UNKNOWN_STACK_FLAVOR, "stack", "no plugin provides the stack's flavors: add `@dockwright/plugin-zenml`, or a plugin that taps the `flavors` hook."));
    return stack;
  }
  for (const component of byType.values()) {
    const at = component.index === undefined ? "stack" : `stack.components[${component.index}]`;
    const types = flavors.get(component.type);
    if (!types) {
      const hint = didYouMean(component.type, [...flavors.keys()]);
      out.push(error(codes.UNKNOWN_STACK_FLAVOR, `${at}.type`,
        `${show(component.type)} is not a stack component type${hint ? `; did you mean \`${hint}\`?` : `. Known types: ${[...flavors.keys()].join(", ")}.`}`));
      continue;
    }
    const info = types.get(component.flavor);
    if (!info) {
      const hint = didYouMean(component.flavor, [...types.keys()]);
      out.push(error(codes.UNKNOWN_STACK_FLAVOR, `${at}.flavor`,
        `${show(component.flavor)} is not a flavor of the ${component.type} in this ZenML release${hint ? `; did you mean \`${hint}\`?` : `. Known flavors: ${[...types.keys()].join(", ")}.`}`));
      continue;
    }
    stack.components.push({ type: component.type, flavor: component.flavor, info, ...(component.uri ? { uri: component.uri } : {}), ...(component.default_repository ? { default_repository: component.default_repository } : {}) });
    if (component.type === "orchestrator") stack.containerized = info.containerized === true;
    if (component.type === "container_registry") {
      if (!component.uri) {
        out.push(error(codes.INVALID_CONFIG, `${at}.uri`,
          `the container registry needs the \`uri\` images are pushed under, e.g. \`uri: registry.example.com/team\`.`));
      } else {
        stack.registry = { uri: component.uri, ...(component.default_repository ? { defaultRepository: component.default_repository } : {}) };
      }
    }
    for (const requirement of info.requirements ?? []) stack.requirements.add(requirement);
    if (info.integration !== null) {
      const closure = integrationClosure(integrations, [info.integration], () => {
        out.push(error(codes.UNKNOWN_INTEGRATION, at, `the ${component.type} flavor ${show(component.flavor)} needs the integration ${show(info.integration)}, which no plugin provides.`));
      });
      for (const requirement of closure.requirements) stack.requirements.add(requirement);
      stack.apt.push(...closure.apt);
    }
  }
  return stack;
}
