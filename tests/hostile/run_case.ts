/**
 * Running wire cases in small concurrent batches and judging them: the
 * outcome against the expectation (ours, or nginx's recorded answer), and
 * what the origin received against the case's rules (never a smuggled
 * request, never bytes that are not a request, the right count and body).
 *
 * @module
 */
import type { Seen, WireCase } from "./case.ts";
import { partsFor } from "./case.ts";
import type { RecordingOrigin } from "./recording_origin.ts";
import { exchange, type Outcome, type WireResult } from "./wire.ts";
import NGINX from "./nginx_statuses.json" with { type: "json" };

/** nginx 1.22's answers, by case name, as `nginx_compare.ts --write` recorded them. */
export const nginxOutcomes: Readonly<Record<string, Outcome | Outcome[]>> = NGINX as Record<
  string,
  Outcome | Outcome[]
>;

/** A judged case. */
export interface Judged {
  readonly name: string;
  readonly id: number;
  /** Every final status, or the outcome word. */
  readonly got: Outcome[];
  readonly expected: Outcome[] | undefined;
  readonly nginx: Outcome[] | undefined;
  readonly failures: string[];
  readonly pendingFix: string | undefined;
  readonly stricter: string | undefined;
}

function list(o: Outcome | readonly Outcome[] | undefined): Outcome[] | undefined {
  return o === undefined ? undefined : Array.isArray(o) ? [...o] : [o as Outcome];
}

/** What came back, as a list of outcomes (each final status, or one word). */
export function outcomes(r: WireResult): Outcome[] {
  return r.responses.length ? r.responses.map((x) => x.status) : [r.outcome];
}

/** Sends one case to `port` and returns the raw result. */
export function sendCase(port: number, c: WireCase, id: number): Promise<WireResult> {
  const expected = list(c.expect ?? nginxOutcomes[c.name]);
  return exchange(port, partsFor(c, id), {
    responses: c.responses ?? expected?.length ?? 1,
    timeoutMs: c.timeoutMs ?? 3000,
    ...(c.linger !== undefined ? { linger: c.linger } : {}),
    ...(c.headResponses ? { headResponses: c.headResponses } : {}),
  });
}

/** Judges a case's result and what the origin saw for it. */
export function judge(c: WireCase, id: number, r: WireResult, seen: Seen): Judged {
  const expected = list(c.expect ?? nginxOutcomes[c.name]);
  const got = outcomes(r);
  const failures: string[] = [];
  if (!expected) failures.push("no expectation (run nginx_compare.ts --write, or give `expect`)");
  else if (
    (JSON.stringify(expected) !== JSON.stringify(got.slice(0, expected.length)) || got.length > expected.length) &&
    !(got.length === 1 && c.alsoOk?.includes(got[0]!))
  ) {
    failures.push(`got ${got.join(",")}, expected ${expected.join(",")}`);
  }
  const smuggled = seen.requests.filter((q) => q.target.includes("smuggled"));
  if (smuggled.length) failures.push(`the origin received a smuggled request: ${JSON.stringify(smuggled[0]!.head)}`);
  // A streamed upload cut short reaches the origin as its own request's head and a partial body (`cutUpload`).
  const junk = c.cutUpload === undefined
    ? seen.junk
    : seen.junk.filter((j) => !j.text.startsWith(`POST /c/${String(id).padStart(4, "0")}/ HTTP/1.1\r\n`));
  if (junk.length) {
    failures.push(`the origin received bytes that are no request: ${JSON.stringify(junk[0]!.text.slice(0, 80))}`);
  }
  const real = seen.requests.filter((q) => !q.target.includes("smuggled"));
  const twoXx = (expected ?? []).filter((s) => typeof s === "number" && s < 300).length;
  const anyFiveXx = (expected ?? []).some((s) => typeof s === "number" && s >= 500);
  const want = c.originRequests ?? (anyFiveXx ? undefined : twoXx);
  if (want !== undefined && real.length !== want) {
    failures.push(`the origin received ${real.length} requests, expected ${want}`);
  }
  if (c.originBody !== undefined) {
    const body = c.originBody.replaceAll("{id}", String(id).padStart(4, "0"));
    for (const q of real) {
      if (q.body !== body) failures.push(`the origin received the body ${JSON.stringify(q.body.slice(0, 60))}`);
    }
  }
  const extra = c.check?.(r, seen);
  if (extra) failures.push(extra);
  return {
    name: c.name,
    id,
    got,
    expected,
    nginx: list(nginxOutcomes[c.name]),
    failures,
    pendingFix: c.pendingFix,
    stricter: c.stricter,
  };
}

/** Runs cases `batch` at a time (then the `alone` ones one by one) and judges each. */
export async function runWireCases(
  port: number,
  origin: RecordingOrigin,
  cases: readonly { c: WireCase; id: number }[],
  batch = 12,
): Promise<Judged[]> {
  const out: Judged[] = [];
  const together = cases.filter((x) => !x.c.alone);
  const alone = cases.filter((x) => x.c.alone);
  const groups: { c: WireCase; id: number }[][] = [];
  for (let i = 0; i < together.length; i += batch) groups.push(together.slice(i, i + batch));
  for (const a of alone) groups.push([a]);
  for (const g of groups) {
    const results = await Promise.all(g.map(({ c, id }) => sendCase(port, c, id)));
    for (let i = 0; i < g.length; i++) {
      const { c, id } = g[i]!;
      out.push(judge(c, id, results[i]!, origin.forCase(id)));
    }
  }
  return out;
}

/**
 * A judged case's expectation against nginx's answer: `agree`; `stricter` (we refuse where nginx serves, or refuse
 * with a 4xx where nginx refuses otherwise); `differ` (laxer or better, the row says why); `n/a` (nginx not asked).
 */
export function vsNginx(j: Judged): "agree" | "stricter" | "differ" | "n/a" {
  if (!j.nginx) return "n/a";
  if (JSON.stringify(j.nginx) === JSON.stringify(j.expected)) return "agree";
  const refuses = (o: readonly Outcome[] | undefined) => !!o && o.some((x) => typeof x !== "number" || x >= 400);
  if (refuses(j.expected) && (!refuses(j.nginx) || j.expected!.every((x) => typeof x === "number" && x < 500))) {
    return "stricter";
  }
  return "differ";
}
