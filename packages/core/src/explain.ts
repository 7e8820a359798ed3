/**
 * `dockwright explain`: for one image, where every requirement came from and which layers
 * rebuild when each input changes. Builders cache layer by layer, so a change to an input
 * rebuilds the first layer that uses it and every layer after it.
 */
import type { ImagePlan, Layer } from "./ir.js";

/** The explanation as text: each layer, with where every requirement line came from. */
export function explainImage(image: ImagePlan): string {
  const out = [`image ${image.key}: ${image.tag}`];
  if (image.mode === "use-parent") return [...out, "  not built: the parent image is used as is", ""].join("\n");
  if (image.mode === "retag-parent") return [...out, "  not built: nothing is installed, so the parent image is tagged as this image", ""].join("\n");

  const firstUse = new Map<string, number>([["the parent image", 1]]);
  const use = (input: string, layer: number) => {
    if (!firstUse.has(input)) firstUse.set(input, layer);
  };
  out.push("layers, in build order:");
  image.layers.forEach((layer, index) => {
    const number = index + 1;
    out.push(`  ${number}. ${describe(layer)}`);
    inputsOf(layer).forEach((input) => use(input, number));
    if (layer.kind !== "requirements") return;
    const width = Math.max(0, ...layer.lines.map((line) => line.text.length));
    for (const line of layer.lines) {
      out.push(`       ${line.text.padEnd(width)}  <- ${line.from.join(", ")}`);
      line.from.forEach((from) => use(inputName(from), number));
    }
  });

  const last = image.layers.length;
  const width = Math.max(...[...firstUse.keys()].map((input) => input.length));
  out.push("when an input changes, these layers rebuild:");
  for (const [input, layer] of firstUse) out.push(`  ${input.padEnd(width)}  ${layer === last ? `layer ${layer}` : `layers ${layer}-${last}`}`);
  return `${out.join("\n")}\n`;
}

function describe(layer: Layer): string {
  switch (layer.kind) {
    case "workdir":
      return `work directory ${layer.path}`;
    case "env":
      return `environment ${layer.vars.map(([name]) => name).join(", ")}`;
    case "apt":
      return `apt packages ${layer.packages.join(" ")}`;
    case "installer":
      return `install ${layer.tool}`;
    case "requirements":
      return `${layer.installer.tool} install -r ${layer.file} (${layer.origin} requirements)`;
    case "sources":
      return `copy the source files${layer.chown ? `, owned by ${layer.chown}` : ""}`;
    case "permissions":
      return [layer.writable ? "make the work directory writable by anyone" : "", layer.owner ? `owned by ${layer.owner}` : ""].filter(Boolean).join(", ");
    case "run":
      return `run ${layer.purpose}`;
    case "user":
      return `user ${layer.name}`;
  }
}

/** The settings and files a layer reads, besides the layers before it. */
function inputsOf(layer: Layer): string[] {
  switch (layer.kind) {
    case "workdir":
      return [];
    case "env":
      return ["environment"];
    case "apt":
      return ["apt_packages", "the integrations' apt packages"];
    case "installer":
      return ["python_package_installer"];
    case "requirements":
      return ["python_package_installer_args"];
    case "sources":
      return ["the source files"];
    case "permissions":
      return layer.owner ? ["user"] : [];
    case "run":
      return [layer.purpose];
    case "user":
      return ["user"];
  }
}

/** `reqs.txt:3 (settings...)` -> `reqs.txt`; `settings.docker.requirements[2]` -> `settings.docker.requirements`. */
function inputName(from: string): string {
  return /^(.+):\d+ \(.*\)$/.exec(from)?.[1] ?? from.replace(/\[\d+\]$/, "");
}
