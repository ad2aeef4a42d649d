/**
 * Malformed HTTP/1.1 requests for the garbage tests.
 *
 * @module
 */

/** Requests no HTTP/1.1 server should accept. */
export const GARBAGE: readonly (string | Uint8Array)[] = [
  "\x00\x01\x02\x03 garbage\r\n\r\n",
  "THIS IS NOT HTTP\r\n\r\n",
  "GET / HTTP/9.9\r\nHost: t\r\n\r\n",
  "GET / HTTP/1.1\r\nHost t\r\nbad header line\r\n\r\n",
  "GET /\x7f\x00 HTTP/1.1\r\nHost: t\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
  new Uint8Array(4096).map((_, i) => (i * 37) & 255),
];
