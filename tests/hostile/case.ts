/**
 * One hostile case as data: the bytes a client sends, what it must get back
 * (our expectation, and nginx 1.22's answer to the same bytes), and what the
 * origin may have received. The case's id is written into its bytes wherever
 * they say `{id}`, as four digits (the origin tags what it receives by
 * `/c/<id>/` or `x-case: <id>`).
 *
 * @module
 */
import type { OriginJunk, OriginRequest } from "./recording_origin.ts";
import type { Outcome, Part, WireResult } from "./wire.ts";

/** The corpus's groups; `HOSTILE_ONLY=<group>` runs one. */
export type Group = "framing" | "slow" | "upstream" | "websocket" | "h2";

/** What the origin saw for one case. */
export interface Seen {
  readonly requests: readonly OriginRequest[];
  readonly junk: readonly OriginJunk[];
}

/** A case run by sending bytes on one connection (framing, slow, upstream). */
export interface WireCase {
  readonly kind: "wire";
  readonly group: Group;
  readonly name: string;
  /** The bytes, in parts with pauses; `{id}` is replaced by the case id. */
  readonly parts: readonly Part[];
  /**
   * Our expectation when it is not nginx's (then `stricter` says why), or for
   * a case nginx was not asked. Pipelined cases list every response's status.
   */
  readonly expect?: Outcome | readonly Outcome[];
  /** Why `expect` differs from nginx's answer. */
  readonly stricter?: string;
  /** Exact number of requests the origin may receive for this case (default: 0 unless a 2xx is expected, then 1). */
  readonly originRequests?: number;
  /** The body the origin must receive, when it receives a request. */
  readonly originBody?: string;
  /** Any further assertion on what came back and what the origin saw; returns a failure or undefined. */
  readonly check?: (result: WireResult, seen: Seen) => string | undefined;
  /** A known finding (issue 15 item 7) or `new: …` that makes the case fail today; reported, not failed. */
  readonly pendingFix?: string;
  /** Final responses to wait for (default 1, or `expect`'s length). */
  readonly responses?: number;
  /** Which responses answer HEAD (no body). */
  readonly headResponses?: readonly number[];
  /** Per-case time limit (default 3 s). */
  readonly timeoutMs?: number;
  /** Read this long for stray bytes after the wanted responses (smuggling shapes). */
  readonly linger?: number;
  /** Which upstream of the group's config (default the recording origin). */
  readonly upstream?: "refused";
  /** Send every part in pieces of `size` bytes with `pause` ms between (after `{id}` is written in). */
  readonly trickle?: { readonly size: number; readonly pause: number };
  /** Outcomes as good as `expect` (e.g. 503 once a health check marked the only backend down), with why. */
  readonly alsoOk?: readonly Outcome[];
  /** Run alone, after the concurrent batches (it loads the proxy or needs a quiet pool). */
  readonly alone?: boolean;
  /**
   * Why the origin may see this case's request cut short (a head and part of a body, then the end): an upload is
   * streamed, not buffered, so a client that stalls mid-body leaves the origin with what came before the cut.
   */
  readonly cutUpload?: string;
}

/** A case run by a function (WebSocket, HTTP/2, greedy clients): it throws on failure. */
export interface FnCase {
  readonly kind: "fn";
  readonly group: Group;
  readonly name: string;
  /** What nginx would do, in words (these are not compared by the script). */
  readonly nginxNote: string;
  readonly pendingFix?: string;
  run(ctx: CaseContext): Promise<void>;
}

/** What a function case gets. */
export interface CaseContext {
  /** The proxy's port. */
  readonly port: number;
  /** The proxy's pid (for /proc). */
  readonly pid: number;
  /** The id given to the case. */
  readonly id: number;
  /** What the recording origin saw for this case so far. */
  seen(): Seen;
  /** Extra ports started for the group (e.g. `ws` → a WebSocket echo origin). */
  readonly extra: Readonly<Record<string, number>>;
}

/** Any case. */
export type HostileCase = WireCase | FnCase;

/** The bytes of a wire case with its id written in. */
export function partsFor(c: WireCase, id: number): Part[] {
  // Four digits, as long as `{id}` itself: lengths computed on the template (Content-Length, chunk sizes) stay true.
  if (id < 0 || id > 9999) throw new Error(`case id ${id} is not four digits`);
  const tag = String(id).padStart(4, "0");
  const parts = c.parts.map((p) => typeof p === "string" ? p.replaceAll("{id}", tag) : p);
  const t = c.trickle;
  if (!t) return parts;
  return parts.flatMap((p): Part[] => {
    if (typeof p !== "string") return [p];
    const out: Part[] = [];
    for (let i = 0; i < p.length; i += t.size) out.push(p.slice(i, i + t.size), { pause: t.pause });
    return out;
  });
}
