import assert from "node:assert/strict";
import { procAddresses } from "./cut_socket.ts";

Deno.test("procAddresses() writes an address as /proc/net/tcp{,6} does", () => {
  assert.deepEqual(procAddresses("127.0.0.1"), ["0100007F", "0000000000000000FFFF00000100007F"]);
  assert.deepEqual(procAddresses("::1"), ["00000000000000000000000001000000"]);
  assert.deepEqual(procAddresses("::ffff:127.0.0.1"), ["0000000000000000FFFF00000100007F"]);
  assert.deepEqual(procAddresses("2001:db8::2"), ["B80D0120000000000000000002000000"]);
  assert.deepEqual(procAddresses("not an address"), []);
  assert.deepEqual(procAddresses("1:2:3"), [], "too few groups without ::");
});
