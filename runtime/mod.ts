/**
 * The runtime's door: what runs a compiled Plan. `startProxy()` serves a Plan in this isolate (live upstreams,
 * plugins, listeners) and returns a handle that reloads and stops it; `serve()` is the same with every part passed
 * in; `main()` is the command line (`check`, `start`); `checkConfig()` and `readSources()` read a config from files
 * or etcd and compile it. docs/runtime.md draws the folders behind this door.
 *
 * @module
 */
export { type StartOptions, startProxy } from "./lifecycle/start.ts";
export { type RunningProxy, serve, type ServeOptions } from "./lifecycle/serve.ts";
export { main } from "./process/cli.ts";
export { checkConfig, type CheckOptions, type CheckResult, readSources } from "./storage/mod.ts";
