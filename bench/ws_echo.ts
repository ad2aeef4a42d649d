/**
 * WebSocket echo load, for the HTTPS bench's `ws msg/s` rows: an echo origin and a client that keeps `connections`
 * WebSockets each sending a 32-byte text message and waiting for its echo, again and again, for `seconds`; it prints
 * the messages echoed a second. Both run as their own processes so the proxy under test is the only thing measured
 * in between.
 *
 * `deno run -A bench/ws_echo.ts origin PORT` serves the echo; `deno run -A bench/ws_echo.ts client URL SECONDS N`
 * drives it (through a proxy) and prints `{"messages":…,"seconds":…,"errors":…}`.
 *
 * @module
 */

/** What one client run measured. */
export interface WsEchoResult {
  /** Messages echoed a second over all connections. */
  readonly rate: number;
  /** Connections that failed or closed early. */
  readonly errors: number;
}

const SELF = new URL(import.meta.url).pathname;

/** Spawns the echo origin on `port`; the returned child is killed by the caller. */
export function spawnEchoOrigin(port: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SELF, "origin", String(port)],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

/** Runs the client against `url` (ws://…) in its own process and returns the echoed message rate. */
export async function measureWsEcho(url: string, seconds: number, connections: number): Promise<WsEchoResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SELF, "client", url, String(seconds), String(connections)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as { messages: number; seconds: number; errors: number };
  return { rate: r.messages / r.seconds, errors: r.errors };
}

function origin(port: number): void {
  Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("pong");
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
}

async function client(url: string, seconds: number, n: number): Promise<void> {
  const payload = "x".repeat(32);
  let messages = 0;
  let errors = 0;
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(url);
      ws.onopen = () => ws.send(payload);
      ws.onmessage = () => {
        messages++;
        if (running) ws.send(payload);
        else ws.close();
      };
      ws.onerror = () => {
        errors++;
        resolve();
      };
      ws.onclose = () => resolve();
    });
  // Open every connection first, then count from a common start.
  const started = performance.now();
  const all = Array.from({ length: n }, one);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const elapsed = (performance.now() - started) / 1000;
  const counted = messages;
  await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 2000))]);
  console.log(JSON.stringify({ messages: counted, seconds: elapsed, errors }));
  Deno.exit(0);
}

if (import.meta.main) {
  const [mode, a, b, c] = Deno.args;
  if (mode === "origin") origin(Number(a));
  else if (mode === "client") await client(a!, Number(b), Number(c ?? 50));
  else {
    console.error("usage: ws_echo.ts origin PORT | client URL SECONDS N");
    Deno.exit(2);
  }
}
