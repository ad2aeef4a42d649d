/**
 * Routing: the table the compiler builds per server, the lookup the runtime
 * runs per request, and the linear oracle.
 *
 * @module
 */
export * from "./table.ts";
export * from "./match.ts";
export * from "./lookup.ts";
export * from "./linear.ts";
