/**
 * Bad `basic_auth`, `key_auth` and `jwt` configs through the real CLI (`mod.ts check`): each is an error at its file,
 * line and key path with a hint, and `check` exits 1. Covers bad base64 (Pingap's vector 67), a missing key source
 * (vector 86), an unknown algorithm, EdDSA with a secret (vector 83 as of Pingap 0.16, which takes HS384), a missing
 * secret or public key (vector 84), and
 * public keys that are a private key, unreadable, or of the wrong kind for the algorithm.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { spawnDeno } from "./_support/process.ts";

const spki = (type: "ec" | "rsa", curve?: string) =>
  (type === "ec"
    ? generateKeyPairSync("ec", { namedCurve: curve! })
    : generateKeyPairSync("rsa", { modulusLength: 2048 })).publicKey.export({ type: "spki", format: "pem" }).toString();

/** A bcrypt hash of "U*U" (the test vector of OpenBSD's bcrypt). */
const BCRYPT = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

/** `[table, expected path, line, message pattern, hint pattern]` per bad plugin. */
const CASES: readonly [string, string, RegExp, RegExp][] = [
  [
    'category = "basic_auth"\nauthorizations = ["YWRtaW46MTIz", "1"]',
    "authorizations[1]",
    /Authorization "1" is not valid base64: invalid input length 1/,
    /echo -n "admin:secret" \| base64/,
  ],
  [
    'category = "basic_auth"\nauthorizations = ["YWRtaW46MTIz="]',
    "authorizations[0]",
    /is not valid base64: invalid padding/,
    /base64/,
  ],
  [
    'category = "basic_auth"\nauthorizations = ["YWRtaW46MTIz"]\nip_fail_window = "0s"',
    "ip_fail_window",
    /must be greater than zero/,
    /5m/,
  ],
  ['category = "basic_auth"\nauthorizations = ["YWRtaW46MTIz"]\nip_fail_limit = -1', "ip_fail_limit", /./, /./],
  [
    'category = "basic_auth"\nauthorizations = ["YWRtaW46MTIz"]\nrealm = "a\\u0007b"',
    "realm",
    /Realm can not be put into a header/,
    /control characters/,
  ],
  ['category = "basic_auth"', "authorizations", /Basic auth has no account/, /htpasswd/],
  ['category = "basic_auth"\nhtpasswd = ["alice"]', "htpasswd[0]", /should be user:hash/, /htpasswd -nbB/],
  [
    'category = "basic_auth"\nhtpasswd = ["alice:$apr1$abc$def"]',
    "htpasswd[0]",
    /The hash of "alice" is not bcrypt \(\$2y\$\) or argon2/,
    /htpasswd -nbB/,
  ],
  [
    'category = "basic_auth"\nhtpasswd = ["alice:$2y$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"]',
    "htpasswd[0]",
    /The hash of "alice" has cost 99, outside 4-31/,
    /Copy the whole hash again/,
  ],
  [
    'category = "basic_auth"\nhtpasswd = ["bob:$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ"]',
    "htpasswd[0]",
    /The hash of "bob" is not an argon2 hash in PHC form/,
    /Copy the whole hash again/,
  ],
  [
    `category = "basic_auth"\nhtpasswd = ["a:${BCRYPT}", "a:${BCRYPT}"]`,
    "htpasswd[1]",
    /"a" is in htpasswd twice/,
    /one entry per user/,
  ],
  ['category = "key_auth"\nkeys = ["k"]', "query", /neither query nor header is set/, /query = "api_key"/],
  [`category = "key_auth"\nheader = "X-Key"\nkeys = []`, "keys", /List is empty/, /at least one item/],
  [
    'category = "jwt"\nheader = "Authorization"\nsecret = "s"\nalgorithm = "HS999"',
    "algorithm",
    /Unknown value "HS999"/,
    /HS256, HS384, HS512/,
  ],
  [
    'category = "jwt"\nheader = "Authorization"\nsecret = "123123"\nalgorithm = "EdDSA"',
    "algorithm",
    /"EdDSA" is not supported with a secret/,
    /HS256, HS384 or HS512/,
  ],
  ['category = "jwt"\nheader = "Authorization"', "secret", /JWT secret is empty/, /Set secret/],
  ['category = "jwt"\nsecret = "s"', "header", /none of header, cookie and query is set/, /header = "Authorization"/],
  ['category = "jwt"\nheader = "Authorization"\nalgorithm = "RS256"', "public_key", /needs a public key/, /public_key/],
  [
    `category = "jwt"\nheader = "Authorization"\nalgorithm = "ES256"\npublic_key = """\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"""`,
    "public_key",
    /Public key is a PRIVATE KEY/,
    /never put a private key here/,
  ],
  [
    `category = "jwt"\nheader = "Authorization"\nalgorithm = "ES256"\npublic_key = """\n-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"""`,
    "public_key",
    /Public key cannot be read/,
    /openssl/,
  ],
  [
    `category = "jwt"\nheader = "Authorization"\nalgorithm = "ES384"\npublic_key = """\n${spki("ec", "P-256")}"""`,
    "public_key",
    /is an EC key on prime256v1, not P-384, so it cannot verify ES384/,
    /set algorithm to match it/,
  ],
  [
    `category = "jwt"\nheader = "Authorization"\nalgorithm = "RS256"\npublic_key = """\n${spki("ec", "P-256")}"""`,
    "public_key",
    /is of type ec, not RSA, so it cannot verify RS256/,
    /pair the tokens are signed with/,
  ],
  ['category = "jwt"\nheader = "A"\nsecret = "s"\nleeway = "2d"', "leeway", /Leeway is at most 1d/, /60s/],
  ['category = "jwt"\nheader = "A"\nsecret = "s"\nissuers = ["https://id.test", " "]', "issuers[1]", /empty/, /Remove/],
  [
    'category = "jwt"\nheader = "A"\nsecret = "s"\nclaims_to_headers = ["sub"]',
    "claims_to_headers[0]",
    /"sub" should be claim:Header-Name/,
    /sub:X-User-Id/,
  ],
  [
    'category = "jwt"\nheader = "A"\nsecret = "s"\nclaims_to_headers = ["sub:X-User", "iss:Host"]',
    "claims_to_headers[1]",
    /host is not a header for a claim/,
    /header of your own/,
  ],
];

Deno.test("auth plugins: every bad config is a check error at its file, line and key path, with a hint", async () => {
  let text = "";
  const lines: number[] = [];
  CASES.forEach(([table], i) => {
    text += `[plugins.p${i}]\n`;
    // The line of the case's first key below its category; each case's error is on a line of its own table.
    lines.push(text.split("\n").length);
    text += `${table}\n\n`;
  });
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(file, text);
  try {
    const child = spawnDeno(["run", "--allow-read", "--allow-env", "mod.ts", "check", "-c", file]);
    const code = await child.exited();
    const out = child.output();
    assert.equal(code, 1, out);
    const errors = out.split("\n").filter((l) => l.includes(" error: "));
    CASES.forEach(([table, key, message, hint], i) => {
      const at = errors.filter((e) => e.includes(`  plugins.p${i}.${key}  `));
      assert.equal(at.length, 1, `case ${i} (${key}):\n${out}`);
      const m = /^(.*):(\d+):\d+ {2}/.exec(at[0]!);
      assert.ok(m, at[0]!);
      assert.equal(m[1], file);
      const line = Number(m[2]);
      const end = i + 1 < lines.length ? lines[i + 1]! : Infinity;
      assert.ok(line >= lines[i]! - 1 && line < end, `case ${i}: line ${line} is in its table:\n${at[0]}`);
      assert.match(at[0]!, message, `case ${i}`);
      assert.match(at[0]!, / {2}\(.+\)$/, `case ${i} has a hint`);
      assert.match(at[0]!, hint, `case ${i}`);
      void table;
    });
  } finally {
    await Deno.remove(file);
  }
});
