/**
 * Reading a connection to its end, within a bound, for the timeout tests.
 *
 * @module
 */

/** Reads until the peer ends the connection; the bytes read, or -1 if it had not ended after `boundMs`. */
export async function readToEnd(conn: Deno.Conn, boundMs: number): Promise<number> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, boundMs);
  const buf = new Uint8Array(65536);
  let total = 0;
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      total += n;
    }
  } catch {
    // A reset by the peer is its end too; our own close (the bound) is not.
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) return -1;
  try {
    conn.close();
  } catch { /* closed */ }
  return total;
}
