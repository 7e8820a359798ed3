/**
 * Integration requirement sets, as webpack computes runtime requirements: the named integrations
 * and every integration they need, collected by iterating a growing Set.
 */
import type { IntegrationCatalog } from "../hooks.js";
import { didYouMean } from "../settings.js";

export type Closure = { requirements: string[]; apt: string[] };

export function integrationClosure(catalog: IntegrationCatalog, names: readonly string[], unknown: (name: string, index: number) => void): Closure {
  const requirements: string[] = [];
  const apt: string[] = [];
  const pending = new Set(names);
  let index = 0;
  for (const name of pending) {
    const spec = catalog.get(name);
    if (!spec) unknown(name, index);
    else {
      requirements.push(...spec.requirements);
      apt.push(...(spec.aptPackages ?? []));
      spec.integrations?.forEach((n) => pending.add(n));
    }
    index++;
  }
  return { requirements, apt };
}

/** The names closest to an unknown one: a likely typo first, then the nearest by prefix. */
export function closestIntegrations(catalog: IntegrationCatalog, name: string): string[] {
  const known = [...catalog.keys()].sort();
  const typo = didYouMean(name, known);
  const normalized = name.toLowerCase().replaceAll("-", "_");
  const similar = known.filter((k) => k !== typo && (k.startsWith(normalized.slice(0, 3)) || k.includes(normalized) || normalized.includes(k)));
  return [...(typo ? [typo] : []), ...similar].slice(0, 5);
}
