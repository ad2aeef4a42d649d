/**
 * Whether one location matches one request: path, host and conditions, as
 * Pingap defines them (inventory §2.1–2.2). Shared by the compiled lookup
 * and the linear oracle.
 *
 * @module
 */
import type { Condition, HostMatch, PathMatch } from "../values/location_match.ts";

/** What routing needs of a request. */
export interface RouteRequest {
  /** Request host as received, without port (may be ""). */
  readonly host: string;
  /** Raw path, no query, not decoded. */
  readonly path: string;
  /** A request header by lower-case name, or null. */
  header(name: string): string | null;
  /** A raw query parameter, or undefined. */
  query(name: string): string | undefined;
  /** A cookie, or undefined. */
  cookie(name: string): string | undefined;
}

/** What matching needs of a location. */
export interface Matchable {
  readonly path: PathMatch;
  readonly hosts: readonly HostMatch[];
  readonly matchHeaders: readonly Condition[];
  readonly matchQuery: readonly Condition[];
  readonly matchCookies: readonly Condition[];
}

/** Does `path` match? */
export function pathMatches(p: PathMatch, path: string): boolean {
  switch (p.kind) {
    case "any":
      return true;
    case "exact":
      return path === p.path;
    case "prefix":
      return path.startsWith(p.prefix);
    case "regex":
      p.regex.lastIndex = 0;
      return p.regex.test(path);
  }
}

/** Does one host selector match? `lower` is the lower-cased host. */
export function hostMatches(h: HostMatch, host: string, lower: string): boolean {
  switch (h.kind) {
    case "exact":
      return lower === h.host;
    case "suffix":
      return lower.length > h.suffix.length && lower.endsWith(h.suffix);
    case "regex":
      h.regex.lastIndex = 0;
      return h.regex.test(host);
  }
}

function conditionsHold(list: readonly Condition[], get: (name: string) => string | null | undefined): boolean {
  for (const c of list) {
    const v = get(c.name);
    if (v === null || v === undefined) return false;
    if (c.value !== undefined && v !== c.value) return false;
  }
  return true;
}

/** Do the location's conditions (headers, query, cookies) hold? */
export function conditionsMatch(loc: Matchable, req: RouteRequest): boolean {
  if (loc.matchHeaders.length && !conditionsHold(loc.matchHeaders, (n) => req.header(n.toLowerCase()))) return false;
  if (loc.matchQuery.length && !conditionsHold(loc.matchQuery, (n) => req.query(n))) return false;
  if (loc.matchCookies.length && !conditionsHold(loc.matchCookies, (n) => req.cookie(n))) return false;
  return true;
}

/** Does the location fully match the request? `lower` is the lower-cased host. */
export function locationMatches(loc: Matchable, req: RouteRequest, lower: string): boolean {
  if (!pathMatches(loc.path, req.path)) return false;
  if (loc.hosts.length > 0) {
    let any = false;
    for (const h of loc.hosts) {
      if (hostMatches(h, req.host, lower)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return conditionsMatch(loc, req);
}

/** Named captures of the winning location's host and path regexes. */
export function captures(loc: Matchable, req: RouteRequest): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const h of loc.hosts) {
    if (h.kind !== "regex") continue;
    h.regex.lastIndex = 0;
    const m = h.regex.exec(req.host);
    if (m) {
      if (m.groups) out = Object.assign(out ?? {}, m.groups);
      break;
    }
  }
  if (loc.path.kind === "regex") {
    loc.path.regex.lastIndex = 0;
    const m = loc.path.regex.exec(req.path);
    if (m?.groups) out = Object.assign(out ?? {}, m.groups);
  }
  if (out) { for (const k in out) if (out[k] === undefined) delete out[k]; }
  return out;
}
