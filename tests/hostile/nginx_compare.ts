/**
 * Not part of the suite: sends every wire case of the hostile corpus to nginx
 * 1.22 (Debian's `nginx-light`, configured as a reverse proxy to the same
 * recording origin, see `setup.ts`) and to this proxy, and prints the table
 * case | ours | nginx | expected. With `--write` it records nginx's answers in
 * `nginx_statuses.json`, the data the suite's rows take their nginx column
 * (and, unless a row says `expect` and why, their expectation) from.
 *
 *     deno run -A --unstable-net --unstable-no-legacy-abort tests/hostile/nginx_compare.ts [--write] [--only framing]
 *
 * @module
 */
import { corpus } from "./corpus.ts";
import type { WireCase } from "./case.ts";
import { judge, nginxOutcomes, outcomes, sendCase, vsNginx } from "./run_case.ts";
import { startRecordingOrigin } from "./recording_origin.ts";
import { freePort, nginxConfig, proxyConfig, type Targets } from "./setup.ts";
import { spawnProxy } from "../_support/process.ts";
import type { Outcome } from "./wire.ts";

const write = Deno.args.includes("--write");
const onlyAt = Deno.args.indexOf("--only");
const only = onlyAt >= 0 ? Deno.args[onlyAt + 1]?.split(",") : undefined;

const origin = startRecordingOrigin();
const nginxPort = freePort();
const targets: Targets = {
  origin: origin.addr,
  refused: freePort(),
  ws: `127.0.0.1:${freePort()}`,
  port: freePort(),
  h2Port: freePort(),
};
const dir = await Deno.makeTempDir({ prefix: "hostile-nginx-" });
await Deno.writeTextFile(`${dir}/nginx.conf`, nginxConfig({ ...targets, port: nginxPort }, dir));
const nginx = new Deno.Command("nginx", {
  args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"],
  stdout: "null",
  stderr: "inherit",
}).spawn();
const proxy = await spawnProxy(proxyConfig(targets));
for (let i = 0; i < 50; i++) {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port: nginxPort })).close();
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cases = corpus().filter((x): x is { c: WireCase; id: number } =>
  x.c.kind === "wire" && (!only || only.includes(x.c.group))
);
const recorded: Record<string, Outcome[] | Outcome> = { ...nginxOutcomes };
const rows: string[][] = [];
const BATCH = 12;
const show = (o: readonly Outcome[] | undefined) =>
  o === undefined ? "-" : o.length > 4 ? `${o[0]}×${o.length}` : o.join(",");
let agree = 0, stricter = 0, differ = 0;
const changed: string[] = [];
for (let i = 0; i < cases.length; i += BATCH) {
  const batch = cases.slice(i, i + BATCH);
  // nginx first, with ids moved out of the suite's range so the origin's records do not mix.
  const fromNginx = await Promise.all(batch.map(({ c, id }) => sendCase(nginxPort, c, id + 5000)));
  const fromUs = await Promise.all(batch.map(({ c, id }) => sendCase(proxy.port, c, id)));
  for (let j = 0; j < batch.length; j++) {
    const { c, id } = batch[j]!;
    const n = outcomes(fromNginx[j]!);
    const before = nginxOutcomes[c.name];
    if (before !== undefined && JSON.stringify(before) !== JSON.stringify(n.length === 1 ? n[0]! : n)) {
      changed.push(`${c.name}: recorded ${JSON.stringify(before)}, now ${JSON.stringify(n)}`);
    }
    recorded[c.name] = n.length === 1 ? n[0]! : n;
    const nginxSeen = origin.forCase(id + 5000);
    const ours = judge(c, id, fromUs[j]!, origin.forCase(id));
    // Ours against nginx as they answered now; the expectation's verdict as the suite prints it.
    const same = JSON.stringify(ours.got) === JSON.stringify(n);
    const verdict = same ? "same" : vsNginx({ ...ours, nginx: n });
    if (same) agree++;
    else if (verdict === "stricter") stricter++;
    else differ++;
    const nginxNote = nginxSeen.requests.some((q) => q.target.includes("smuggled")) || nginxSeen.junk.length
      ? " (nginx: origin desynced)"
      : "";
    rows.push([
      c.group,
      c.name,
      show(ours.got),
      show(n) + nginxNote,
      show(ours.expected),
      verdict,
      ours.failures.length ? `${c.pendingFix ? "PENDING " : "FAIL "}${ours.failures.join("; ")}` : "",
    ]);
  }
}
const widths = [8, 48, 10, 10, 10, 8];
console.log(
  ["group", "case", "ours", "nginx", "expected", "vs nginx", "suite"].map((h, i) => h.padEnd(widths[i] ?? 0)).join(" "),
);
for (const r of rows) console.log(r.map((x, i) => x.padEnd(widths[i] ?? 0)).join(" "));
console.log(
  `\n${rows.length} cases: ours answered as nginx in ${agree}; otherwise our expectation is stricter in ${stricter}, ` +
    `differs in ${differ} (a failing row is a pending finding or a failure, see the last column)`,
);
if (changed.length) console.log(`nginx answered differently from nginx_statuses.json:\n  ${changed.join("\n  ")}`);
if (write) {
  const sorted = Object.fromEntries(Object.entries(recorded).sort(([a], [b]) => a.localeCompare(b)));
  await Deno.writeTextFile(new URL("./nginx_statuses.json", import.meta.url), JSON.stringify(sorted, null, 2) + "\n");
  console.log("nginx_statuses.json written");
}
nginx.kill("SIGTERM");
await nginx.status;
await proxy.child.stop();
await origin.close();
await Deno.remove(dir, { recursive: true });
await Deno.remove(proxy.file);
