/**
 * The plugins' door: the contract a runtime half is written against
 * (contract.ts), the registry of halves by category (registry.ts), and the
 * instances of a generation, kept across reloads when unchanged
 * (instances.ts).
 *
 * @module
 */
export type {
  PluginAnswer,
  PluginEnv,
  PluginFactory,
  PluginHooks,
  PluginInstance,
  PluginSelf,
  ProxyView,
  ResponseDone,
  RuntimePlugin,
} from "./contract.ts";
export { runtimePlugin } from "./contract.ts";
export { type PluginRegistry, RUNTIME_PLUGINS } from "./registry.ts";
export { PluginInstances } from "./instances.ts";
