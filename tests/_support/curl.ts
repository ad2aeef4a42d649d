/**
 * curl as the client: a real HTTP client process for the auth tests (credentials with `-u`, headers with `-H`,
 * cookies with `-b`), so what reaches the proxy is what a user's tool sends.
 *
 * @module
 */

/** What curl got: status, headers and body of the last response. */
export interface Curled {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/** Runs `curl -sS` with `args` (the URL among them) and parses the one response it printed with `-i`. */
export async function curl(...args: string[]): Promise<Curled> {
  const out = await new Deno.Command("curl", { args: ["-sS", "-i", ...args], stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) throw new Error(`curl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body: end < 0 ? "" : text.slice(end + 4) };
}
