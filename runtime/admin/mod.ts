/**
 * The admin: Pingap's `admin` plugin (its runtime half), its JSON API, the
 * `--admin` flag, and the context the process gives it (where the config
 * is stored, the reload that applies a saved change).
 *
 * This file is a door: it only re-exports.
 *
 * @module
 */
export { admin } from "./plugin.ts";
export { type AdminContext, adminContext, setAdminContext, shareAdminContext } from "./context.ts";
export { ADMIN_NAME, adminAmend, type AdminFlag, adminSpec, isLoopbackHost, parseAdminFlag } from "./flag.ts";
export { loginToken } from "./token.ts";
export { SECRET_PLACEHOLDER } from "./secrets.ts";
