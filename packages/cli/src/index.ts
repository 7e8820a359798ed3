/**
 * Dockwright for programs: compile a project as `dockwright compile` does, or assemble a compiler
 * of your own around the Node host. This package is the one place that wires every other together.
 */
export { compileProject, type Project, type ProjectImage, type ProjectOptions } from "./project.js";
export { nodeHost, type HostOptions } from "./host.js";
export { backendNames, type BackendName } from "./backends.js";
