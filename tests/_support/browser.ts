/**
 * A real browser for the tests: Debian's `chromium` (installed by {@linkcode requireComponent} when missing and
 * possible), driven by `puppeteer-core`. Headless, no sandbox (tests run as root here), a fresh profile per launch.
 *
 * @module
 */
import puppeteer, { type Browser } from "puppeteer-core";
import { requireComponent } from "../components.ts";

/** Chromium's path, or undefined when it is missing and cannot be installed (the test then skips loudly). */
export async function chromiumPath(): Promise<string | undefined> {
  const found = await requireComponent("chromium", { binaries: ["chromium"], aptPackages: ["chromium"] });
  return found?.chromium;
}

/** Launches headless Chromium at `path`. */
export function launchBrowser(path: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: path,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}
