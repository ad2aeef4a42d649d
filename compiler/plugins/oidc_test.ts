import assert from "node:assert/strict";
import { checkSources, formatPath } from "../mod.ts";
import type { OidcPlan } from "./oidc.ts";

const GOOD =
  'issuer = "https://idp.test/"\nclient_id = "pingap"\nclient_secret = "s3cret"\ncookie_secret = "0123456789abcdef"';

/** Compiles a config with one oidc plugin `o` of the given keys; the errors as `path: message` and the plugin's plan. */
function compile(keys: string): { errors: string[]; hints: string[]; plan?: OidcPlan } {
  const text =
    `[servers.web]\naddr = "127.0.0.1:6188"\nlocations = ["app"]\n[upstreams.app]\naddrs = ["127.0.0.1:1"]\n` +
    `[locations.app]\nupstream = "app"\nplugins = ["o"]\n[plugins.o]\ncategory = "oidc"\n${keys}\n`;
  const r = checkSources([{ file: "x.toml", text }]);
  const errs = r.diagnostics.filter((d) => d.severity === "error");
  const plugin = r.plan?.plugins.find((p) => p.name === "o") as { config: OidcPlan } | undefined;
  return {
    errors: errs.map((d) => `${formatPath(d.path)}: ${d.message}`),
    hints: errs.map((d) => d.hint ?? ""),
    ...(plugin ? { plan: plugin.config } : {}),
  };
}

Deno.test({
  name: "oidc: defaults as Pingap 0.16 (issuer without its trailing slash, openid first, 12h, pingap_oidc)",
}, () => {
  const r = compile(`${GOOD}\nscopes = ["email", "openid", "email"]`);
  assert.deepEqual(r.errors, []);
  const p = r.plan!;
  assert.equal(p.issuer, "https://idp.test");
  assert.equal(p.scopes, "openid email");
  assert.equal(p.redirectPath, "/oauth2/callback");
  assert.equal(p.cookieName, "pingap_oidc");
  assert.equal(p.sessionTtl, 43200);
  assert.equal(p.key.length, 32);
});

Deno.test("oidc: a missing issuer, a bad URL and other bad keys are check errors with key path and hint", () => {
  const cases: [string, RegExp][] = [
    ['client_id = "c"\ncookie_secret = "0123456789abcdef"', /plugins\.o\.issuer/],
    [
      'issuer = "ftp://idp"\nclient_id = "c"\ncookie_secret = "0123456789abcdef"',
      /plugins\.o\.issuer: issuer is required/,
    ],
    ['issuer = "not a url"\nclient_id = "c"\ncookie_secret = "0123456789abcdef"', /plugins\.o\.issuer/],
    [
      'issuer = "https://idp"\nclient_id = "c"\ncookie_secret = "short"',
      /plugins\.o\.cookie_secret: cookie_secret is required, 16/,
    ],
    [`${GOOD}\nredirect_path = "//evil"`, /plugins\.o\.redirect_path: .* is not a path/],
    [`${GOOD}\nlogout_path = "/oauth2/callback"`, /plugins\.o\.logout_path: logout_path can not be the redirect_path/],
    [`${GOOD}\nredirect_url = "https://app.test/other"`, /plugins\.o\.redirect_url: redirect_url should be/],
    [`${GOOD}\ncookie_name = "__Host-s"`, /plugins\.o\.cookie_name: cookie_name can not begin with __Host-/],
    [`${GOOD}\ncookie_name = "a b"`, /plugins\.o\.cookie_name/],
    [`${GOOD}\nsession_ttl = "30s"`, /plugins\.o\.session_ttl: session_ttl should be at least 1m/],
    [`${GOOD}\nscopes = ["a b"]`, /plugins\.o\.scopes\[0\]/],
    [`${GOOD}\nclaims_to_headers = ["sub:Host"]`, /plugins\.o\.claims_to_headers\[0\]/],
    [`${GOOD}\nstep = "response"`, /plugins\.o\.step/],
  ];
  for (const [keys, want] of cases) {
    const r = compile(keys);
    assert.ok(r.errors.some((e) => want.test(e)), `${keys}\n→ ${r.errors.join("\n")}`);
    assert.ok(r.hints.every((h) => h !== ""), `hint for ${keys}`);
  }
});
