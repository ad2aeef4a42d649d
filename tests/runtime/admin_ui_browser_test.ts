/**
 * The admin web UI in real headless Chromium against the real proxy (its own process, `--admin`, a config file,
 * two echo origins): the first load's size over the wire (asserted under 200 KB) and time to the login form (printed,
 * never asserted); log in; the dashboard's topology; a location's upstream changed in its form and saved → the proxy
 * serves the new route; an invalid value → the compiler's error at that field and Save refused, the file unchanged;
 * a restore from history → the old route served again; the language switch; the dark theme. Each screen is saved
 * as a PNG under tests/output/admin_ui/.
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
      await shot(page, "2_dashboard");

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
      await edit("b");
      await page.click("#toml-check");
      await page.waitForSelector("#toml-import:not([disabled])");
      await shot(page, "7_toml");
      await page.click("#toml-import");
      await toast(page, "Imported");
      assert.equal(await served(web), "b");
      assert.ok((await Deno.readTextFile(file)).includes(keyBody));

      // Chinese, then the dark theme.
      await page.click('nav a[href="#/"]');
      await page.waitForSelector(".dashboard [data-location=app]");
      await page.click("#lang");
      await page.waitForFunction('document.querySelector("nav").textContent.includes("概览")');
      assert.equal(await page.$eval("html", (e) => e.lang), "zh-CN");
      await shot(page, "8_dashboard_zh");
      await page.click("#theme");
      assert.equal(await page.$eval("html", (e) => e.dataset.theme), "dark");
      await shot(page, "9_dashboard_zh_dark");
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
