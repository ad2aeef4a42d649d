/**
 * The admin web UI in real headless Chromium against the real proxy (its own process, `--admin`, a config file,
 * two echo origins): the first load's size over the wire (asserted under 200 KB) and time to the login form (printed,
 * never asserted); log in; the dashboard's topology; a location's upstream changed in its form and saved → the proxy
 * serves the new route; an invalid value → the compiler's error at that field and Save refused, the file unchanged;
 * a restore from history → the old route served again; the reload button (confirmed); the TOML page's read-only HCL
 * and KDL views; a rename from the list (refused, then done with its references); the language switch; the dark theme. A read-only login (`readonly_authorizations`) sees no Save,
 * Delete, Restore, Import or Reload, and the proxy refuses its writes. Each screen is saved as a PNG under
 * tests/output/admin_ui/.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { type Echo, freePort, startEchoOrigin } from "../_support/origin.ts";
import { startWithAdmin } from "../_support/process.ts";
import { chromiumPath, launchBrowser } from "../_support/browser.ts";
import { makeTestPki } from "../_support/certs.ts";
import { renderJsonSchema } from "../../compiler/mod.ts";
import { loginToken } from "../../runtime/admin/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const OUT = `${ROOT}tests/output/admin_ui`;
const ACCOUNT = { user: "pingap", password: "s3cret" };
const chromium = await chromiumPath();

async function served(web: string): Promise<string> {
  const res = await fetch(`${web}/x`);
  return ((await res.json()) as Echo).name;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${OUT}/${name}.png` });
}

/** Replaces the text of the field `selector` with `text`, as a user types it. */
async function retype(page: Page, selector: string, text: string): Promise<void> {
  await page.focus(selector);
  await page.$eval(selector, (e) => (e as unknown as { select(): void }).select());
  await page.keyboard.press("Backspace");
  await page.keyboard.type(text);
}

/** Waits for the notice saying `text`. */
async function toast(page: Page, text: string): Promise<void> {
  await page.waitForFunction(`document.querySelector(".toast")?.textContent.includes(${JSON.stringify(text)})`);
}

Deno.test({
  name: "admin UI in Chromium: first load size, login, dashboard, edit and save, error at the field, restore, language",
  ignore: chromium === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await Deno.mkdir(OUT, { recursive: true });
    const a = await startEchoOrigin("a");
    const b = await startEchoOrigin("b");
    const webPort = freePort();
    const adminPort = freePort();
    const dir = await Deno.makeTempDir();
    const pki = await makeTestPki([{ name: "site.test", days: 30 }]);
    const site = pki.leaves["site.test"]!;
    const file = `${dir}/pingap.toml`;
    await Deno.writeTextFile(
      file,
      `[basic]\nname = "demo"\n\n[servers.web]\naddr = "127.0.0.1:${webPort}"\nlocations = ["app"]\n\n` +
        `[locations.app]\npath = "/"\nupstream = "a"\n\n[upstreams.a]\naddrs = ["${a.addr}"]\n\n` +
        `[upstreams.b]\naddrs = ["${b.addr}"]\n\n` +
        `[certificates.site]\ntls_cert = ${JSON.stringify(site.cert)}\ntls_key = ${JSON.stringify(site.key)}\n`,
    );
    const child = startWithAdmin(file, `${ACCOUNT.user}:${ACCOUNT.password}@127.0.0.1:${adminPort}`, dir);
    const web = `http://127.0.0.1:${webPort}`;
    const admin = `http://127.0.0.1:${adminPort}/`;
    const browser = await launchBrowser(chromium!);
    try {
      await child.waitFor(/pingap:admin listening on/);
      assert.equal(await served(web), "a");
      const page = await browser.newPage();
      await page.setViewport({ width: 1100, height: 720 });
      // Every request the page makes goes to the admin itself; no script error, no CSP refusal.
      const elsewhere: string[] = [];
      const problems: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(admin)) elsewhere.push(r.url());
      });
      page.on("pageerror", (e) => problems.push(String(e)));
      page.on("console", (m) => {
        // The refused login (401) and the refused dry runs (400) are expected answers, not problems.
        if (m.type() === "error" && !/status of 40[01]\b/.test(m.text())) problems.push(m.text());
      });

      // First load: every byte over the wire (headers and compressed bodies), and the time until the form answers.
      const cdp = await page.createCDPSession();
      await cdp.send("Network.enable");
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
      let wire = 0;
      cdp.on("Network.loadingFinished", (e) => (wire += e.encodedDataLength));
      const started = performance.now();
      await page.goto(admin);
      await page.waitForSelector("#login");
      const interactive = performance.now() - started;
      await page.waitForNetworkIdle({ idleTime: 200 });
      console.log(`admin UI first load: ${wire} bytes over the wire, interactive after ${interactive.toFixed(0)} ms`);
      assert.ok(wire > 5_000 && wire < 200 * 1024, `first load ${wire} bytes`);
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
      await shot(page, "1_login");

      // A wrong password is refused at the form.
      await page.type("input[name=user]", ACCOUNT.user);
      await page.type("input[name=password]", "wrong");
      await page.click("#login");
      await page.waitForSelector(".login .error");
      await retype(page, "input[name=password]", ACCOUNT.password);
      await page.click("#login");

      // The dashboard: process facts and servers → locations → upstream → backends.
      await page.waitForSelector(".dashboard [data-location=app]");
      const topology = await page.$eval("[data-server=web]", (e) => e.textContent ?? "");
      assert.match(topology, /web/);
      assert.match(topology, /app.*→\s*a/s);
      assert.ok(topology.includes(a.addr), topology);
      assert.equal(await page.$eval("[data-fact=name]", (e) => e.textContent), "demo");
      assert.equal(await page.$(".tag.readonly"), null, "this login may write");
      await shot(page, "2_dashboard");
      // Reload (`api/restart`), after a confirming second click.
      await page.click("#reload");
      await page.waitForFunction('document.querySelector("#reload").textContent.includes("Really")');
      await page.click("#reload");
      await toast(page, "Reloading");
      await child.waitFor(/reload \(admin restart\)/);

      // The list of locations, then the form of `app`: upstream a → b, checked, saved, served.
      await page.click('nav a[href="#/list/locations"]');
      await page.waitForSelector("tr[data-name=app]");
      await shot(page, "3_locations");
      await page.click("tr[data-name=app] a");
      await page.waitForSelector(".field[data-key=upstream] input");
      const help = await page.$eval(".field[data-key=upstream] .help", (e) => e.textContent ?? "");
      assert.match(help, /Upstream name/);
      // A key's default is its placeholder (max_processing defaults to 0; enable_reverse_proxy_headers to false).
      assert.equal(
        await page.$eval(".field[data-key=max_processing] input", (e) => e.getAttribute("placeholder")),
        "0",
      );
      assert.match(
        await page.$eval(".field[data-key=enable_reverse_proxy_headers] select", (e) => e.textContent ?? ""),
        /false/,
      );
      await retype(page, ".field[data-key=upstream] input", "b");
      await page.waitForSelector(".status.ok");
      const preview = await page.$eval(".preview", (e) => e.textContent ?? "");
      assert.match(preview, /upstream = "b"/);
      await shot(page, "4_edit_preview");
      await page.click("#save");
      await toast(page, "Saved");
      assert.equal(await served(web), "b");
      assert.match(await Deno.readTextFile(file), /upstream = "b"/);

      // An upstream that does not exist: the compiler's error at the field, Save refused, nothing written.
      await retype(page, ".field[data-key=upstream] input", "nosuch");
      await page.waitForSelector(".field[data-key=upstream].invalid .error");
      const error = await page.$eval(".field[data-key=upstream] .error", (e) => e.textContent ?? "");
      assert.match(error, /nosuch/);
      assert.equal(await page.$eval("#save", (e) => e.hasAttribute("disabled")), true);
      await shot(page, "5_field_error");
      await page.click("#save");
      const before = await Deno.readTextFile(file);
      assert.match(before, /upstream = "b"/);
      assert.equal(await served(web), "b");

      // History: the version before the save (upstream a) restored with one click, and served again.
      await page.goto(`${admin}#/history/locations/app`);
      await page.waitForSelector(".version button.restore:not([disabled])");
      await shot(page, "6_history");
      await page.click(".version button.restore:not([disabled])");
      await toast(page, "Restored");
      assert.equal(await served(web), "a");
      assert.match(await Deno.readTextFile(file), /upstream = "a"/);

      // Every kind has a list and a form with a field for each key of the schema.
      const schema = renderJsonSchema() as {
        properties: Record<string, { properties?: object; additionalProperties?: { properties: object } }>;
      };
      for (const section of ["servers", "locations", "upstreams", "certificates", "storages", "basic"]) {
        const s = schema.properties[section]!;
        const keys = Object.keys(section === "basic" ? s.properties! : s.additionalProperties!.properties);
        if (section !== "basic") {
          await page.click(`nav a[href="#/list/${section}"]`);
          await page.waitForSelector(`.list a.button[href="#/edit/${section}/"]`);
          await page.click(`.list a.button[href="#/edit/${section}/"]`);
        } else await page.click('nav a[href="#/edit/basic"]');
        await page.waitForSelector(".fields .field");
        const shown = await page.$$eval(".fields .field", (es) => es.map((e) => e.getAttribute("data-key")));
        assert.deepEqual(shown.sort(), [...keys].sort(), section);
      }

      // A new plugin: its form's keys are those of the chosen category.
      await page.goto(`${admin}#/edit/plugins/`);
      await page.waitForSelector(".field[data-key=category] select");
      await page.select(".field[data-key=category] select", "ping");
      await page.waitForSelector(".field[data-key=path] input");
      assert.equal(await page.$(".field[data-key=authorizations]"), null);
      await page.select(".field[data-key=category] select", "admin");
      await page.waitForSelector(".field[data-key=authorizations] textarea");

      // Certificates: the served one's expiry in the list; its key never reaches the page.
      await page.click('nav a[href="#/list/certificates"]');
      await page.waitForSelector("[data-expires=site]");
      const expires = await page.$eval("[data-expires=site]", (e) => e.textContent ?? "");
      const days = (Date.parse(expires) - Date.now()) / 86_400_000;
      assert.ok(days > 28 && days < 31, expires);
      await page.click("tr[data-name=site] a");
      await page.waitForSelector(".field[data-key=tls_key]");
      const keyBody = site.key.split("\n")[1]!;
      assert.ok(!(await page.content()).includes(keyBody));
      assert.match(
        await page.$eval(
          ".field[data-key=tls_key] textarea, .field[data-key=tls_key] input",
          (e) => (e as unknown as { value: string }).value,
        ),
        /secret/,
      );

      // The TOML view.
      await page.click('nav a[href="#/toml"]');
      await page.waitForSelector("#toml");
      assert.match(await page.$eval("#toml", (e) => (e as unknown as { value: string }).value), /\[locations\.app\]/);
      assert.ok(!(await page.content()).includes(keyBody));
      // Edited in place: a bad upstream is refused at Check; a good one imported (the masked key kept) and served.
      const edit = (to: string) =>
        page.$eval("#toml", (e, to) => {
          const area = e as unknown as { value: string; dispatchEvent(e: unknown): void };
          area.value = area.value.replace(/(\[locations\.app\][^[]*upstream = )"\w+"/, `$1"${to}"`);
          // deno-lint-ignore no-explicit-any
          area.dispatchEvent(new (globalThis as any).Event("input", { bubbles: true }));
        }, to);
      await edit("nosuch");
      await page.click("#toml-check");
      await page.waitForSelector(".diagnostics li.error");
      assert.match(await page.$eval(".diagnostics", (e) => e.textContent ?? ""), /locations\.app\.upstream.*nosuch/s);
      assert.equal(await page.$eval("#toml-import", (e) => e.hasAttribute("disabled")), true);
      // Read-only views beside it: HCL and KDL of the stored config, secrets masked; back to the TOML as edited.
      await page.click("[data-view=hcl]");
      await page.waitForSelector("#toml-view");
      const hcl = await page.$eval("#toml-view", (e) => (e as unknown as { value: string }).value);
      assert.match(hcl, /location "app" \{/);
      assert.equal(await page.$eval("#toml-view", (e) => e.hasAttribute("readonly")), true);
      assert.equal(await page.$("#toml-import"), null);
      await page.click("[data-view=kdl]");
      await page.waitForFunction('document.querySelector("#toml-view").value.includes("tls_key \\"<secret")');
      assert.ok(!(await page.$eval("#toml-view", (e) => (e as unknown as { value: string }).value)).includes(keyBody));
      await page.click("[data-view=original]");
      await page.waitForSelector("#toml-check");
      assert.match(await page.$eval("#toml", (e) => (e as unknown as { value: string }).value), /upstream = "nosuch"/);
      await edit("b");
      await page.click("#toml-check");
      await page.waitForSelector("#toml-import:not([disabled])");
      await shot(page, "7_toml");
      await page.click("#toml-import");
      await toast(page, "Imported");
      assert.equal(await served(web), "b");
      assert.ok((await Deno.readTextFile(file)).includes(keyBody));

      // Rename from the list: a name taken is refused under the field; a free one renames the references too.
      await page.click('nav a[href="#/list/upstreams"]');
      await page.waitForSelector("tr[data-name=b] .rename-start");
      await page.click("tr[data-name=b] .rename-start");
      await retype(page, "tr[data-name=b] .rename-to", "a");
      await page.click("tr[data-name=b] form.rename button.primary");
      await page.waitForSelector("tr[data-name=b] form.rename .error");
      assert.match(await page.$eval("form.rename .error", (e) => e.textContent ?? ""), /upstreams\.a exists already/);
      await retype(page, "tr[data-name=b] .rename-to", "blue");
      await shot(page, "8_rename");
      await page.click("tr[data-name=b] form.rename button.primary");
      await toast(page, "Renamed");
      await page.waitForSelector("tr[data-name=blue]");
      assert.match(await Deno.readTextFile(file), /upstream = "blue"/);
      assert.equal(await served(web), "b");

      // Chinese, then the dark theme.
      await page.click('nav a[href="#/"]');
      await page.waitForSelector(".dashboard [data-location=app]");
      await page.click("#lang");
      await page.waitForFunction('document.querySelector("nav").textContent.includes("概览")');
      assert.equal(await page.$eval("html", (e) => e.lang), "zh-CN");
      await shot(page, "9_dashboard_zh");
      await page.click("#theme");
      assert.equal(await page.$eval("html", (e) => e.dataset.theme), "dark");
      await shot(page, "10_dashboard_zh_dark");
      await page.click("#lang");
      await page.waitForFunction('document.querySelector("nav").textContent.includes("Dashboard")');
      assert.deepEqual(elsewhere, []);
      assert.deepEqual(problems, []);
    } catch (e) {
      console.error(child.output());
      throw e;
    } finally {
      await browser.close();
      await child.stop();
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
      await pki.remove();
    }
  },
});

Deno.test({
  name: "admin UI in Chromium: a read-only login sees no way to write, and the proxy refuses its writes",
  ignore: chromium === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await Deno.mkdir(OUT, { recursive: true });
    const a = await startEchoOrigin("a");
    const b = await startEchoOrigin("b");
    const webPort = freePort();
    const dir = await Deno.makeTempDir();
    const file = `${dir}/pingap.toml`;
    await Deno.writeTextFile(
      file,
      `[servers.web]\naddr = "127.0.0.1:${webPort}"\nlocations = ["app", "adm"]\n\n` +
        `[locations.app]\npath = "/"\nupstream = "a"\n\n[locations.adm]\npath = "/adm"\nplugins = ["adm"]\n\n` +
        `[plugins.adm]\ncategory = "admin"\npath = "/adm"\nauthorizations = ["${btoa("ops:0ps")}"]\n` +
        `readonly_authorizations = ["${btoa("viewer:v1ew")}"]\n\n` +
        `[upstreams.a]\naddrs = ["${a.addr}"]\n\n[upstreams.b]\naddrs = ["${b.addr}"]\n`,
    );
    const child = startWithAdmin(file, `${ACCOUNT.user}:${ACCOUNT.password}@127.0.0.1:${freePort()}`, dir);
    const web = `http://127.0.0.1:${webPort}`;
    const admin = `${web}/adm/`;
    const browser = await launchBrowser(chromium!);
    try {
      await child.waitFor(/pingap:admin listening on/);
      // A writer changes `app` once: its history has a version the reader could restore, were it allowed.
      const token = (user: string, password: string) => loginToken({ user, password }, Math.floor(Date.now() / 1000));
      const write = async (authorization: string, upstream: string) => {
        const res = await fetch(`${admin}api/configs/location/app`, {
          method: "POST",
          headers: { authorization, "content-type": "application/json" },
          body: JSON.stringify({ path: "/", upstream }),
        });
        return `${res.status} ${await res.text()}`.trim();
      };
      assert.equal(await write(await token("ops", "0ps"), "b"), "204");
      assert.equal(await served(web), "b");
      const stored = await Deno.readTextFile(file);

      const page = await browser.newPage();
      await page.setViewport({ width: 1100, height: 720 });
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(String(e)));
      // Any refused request (a 403 from a dry run the page should not have tried) is a console error here.
      page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
      await page.goto(admin);
      await page.type("input[name=user]", "viewer");
      await page.type("input[name=password]", "v1ew");
      await page.click("#login");
      await page.waitForSelector(".dashboard [data-location=app]");
      assert.match(await page.$eval(".tag.readonly", (e) => e.textContent ?? ""), /Read-only/);
      assert.equal(await page.$("#reload"), null);

      await page.click('nav a[href="#/list/locations"]');
      await page.waitForSelector("tr[data-name=app]");
      assert.equal(await page.$('.list a.button[href="#/edit/locations/"]'), null, "no Add");
      assert.equal(await page.$(".rename-start"), null, "no Rename");

      await page.click("tr[data-name=app] a");
      await page.waitForSelector(".field[data-key=upstream] input");
      assert.equal(await page.$("#save"), null, "no Save");
      assert.equal(await page.$("button.danger"), null, "no Delete");
      assert.equal(await page.$eval(".field[data-key=upstream] input", (e) => e.matches(":disabled")), true);
      assert.match(await page.$eval(".readonly-note", (e) => e.textContent ?? ""), /may only read/);
      await shot(page, "11_readonly_edit");

      await page.goto(`${admin}#/history/locations/app`);
      await page.waitForSelector(".version");
      assert.equal(await page.$(".version button.restore"), null, "no Restore");
      assert.ok(await page.$(".history .readonly-note"));

      await page.click('nav a[href="#/toml"]');
      await page.waitForSelector("#toml");
      assert.equal(await page.$eval("#toml", (e) => e.hasAttribute("readonly")), true);
      assert.equal(await page.$("#toml-check"), null, "no Check");
      assert.equal(await page.$("#toml-import"), null, "no Import");
      await page.click("[data-view=hcl]");
      await page.waitForSelector("#toml-view");
      assert.match(await page.$eval("#toml-view", (e) => (e as unknown as { value: string }).value), /upstream "b"/);
      const content = await page.content();
      assert.ok(!content.includes(btoa("viewer:v1ew")) && !content.includes(btoa("ops:0ps")), "accounts masked");
      await shot(page, "12_readonly_hcl");
      assert.deepEqual(problems, []);

      // The proxy refuses the reader's writes whatever the page shows; nothing is written.
      const viewer = await token("viewer", "v1ew");
      assert.equal(await write(viewer, "a"), "403 Forbidden, this account is read-only");
      assert.equal(
        (await fetch(`${admin}api/restart`, { method: "POST", headers: { authorization: viewer } })).status,
        403,
      );
      assert.equal(await Deno.readTextFile(file), stored);
      assert.equal(await served(web), "b");
    } catch (e) {
      console.error(child.output());
      throw e;
    } finally {
      await browser.close();
      await child.stop();
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
