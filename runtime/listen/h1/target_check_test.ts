import assert from "node:assert/strict";
import { badPath, validHost } from "./target_check.ts";

Deno.test("badPath(): bad escapes, %00 and .. above the root; the query is not looked at", () => {
  for (
    const p of ["/%00", "/%zz", "/%2", "/a%", "/../x", "/a/../..", "/./..", "//..", "/a/%2e%2e/%2E%2E/x", "/..%2fx"]
  ) {
    assert.equal(badPath(p), true, p);
  }
  for (const p of ["/", "/a/../x", "/a/..", "/a.b/..x/...", "/?%zz", "/x?../../", "/%41%2e", "/é"]) {
    assert.equal(badPath(p), false, p);
  }
});

Deno.test("validHost(): uri-host[:port]", () => {
  for (const h of ["h.test", "h.test:8080", "h:", "[::1]", "[::1]:80", "h.test.", "hé.test", "a-b_c~d"]) {
    assert.equal(validHost(h), true, h);
  }
  for (
    const h of ["", "h test", "h.test, other.test", "h.test/x", "..", "a..b", "u@h", "h:abc", "[::1", ":80", "h\\x"]
  ) {
    assert.equal(validHost(h), false, h);
  }
});
