/**
 * System components the tests need (etcd, pebble, prometheus, chromium):
 * found on the machine, installed when they can be, skipped loudly when
 * they cannot, and never silently skipped in CI.
 *
 * {@linkcode requireComponent} looks each binary up on `PATH` (and in
 * `/usr/bin`, `/usr/sbin`, `/usr/local/bin`, `/bin`, `/sbin`). When one is
 * missing:
 *
 * - running as root with `apt-get` on the machine, it installs the given
 *   Debian packages (`apt-get update` at most once per process, then
 *   `apt-get install -y --no-install-recommends <packages>` with
 *   `DEBIAN_FRONTEND=noninteractive`, waiting up to 5 minutes for the dpkg
 *   lock so test files running side by side do not trip over each other),
 *   and looks again;
 * - otherwise (or if the install did not bring the binary) it prints a
 *   banner with `console.warn` and returns `undefined`, so the test can
 *   pass `ignore: true`;
 * - with `CI=true` in the environment a missing component throws instead:
 *   in CI a component test fails, it never skips.
 *
 * Results are cached per process (per component and spec), so many tests
 * asking for the same component install it once.
 *
 * Debian packages and their binaries: etcd → `etcd-server` (`/usr/bin/etcd`,
 * 3.4 on bookworm); pebble → `pebble` (`pebble`, `pebble-challtestsrv`);
 * prometheus → `prometheus`; chromium → `chromium` (`/usr/bin/chromium`); for the
 * benchmarks: nginx → `nginx`, haproxy → `haproxy`, wrk → `wrk`, h2load →
 * `nghttp2-client`.
 *
 * @example Usage
 * ```ts ignore
 * import { requireComponent } from "./components.ts";
 * const etcd = await requireComponent("etcd", { binaries: ["etcd"], aptPackages: ["etcd-server"] });
 * Deno.test({ name: "etcd works", ignore: !etcd, fn: async () => {
 *   // etcd!.etcd is the absolute path of the etcd binary
 * } });
 * ```
 *
 * @module
 */

/** Components the tests know about. */
export type ComponentName =
  | "etcd"
  | "pebble"
  | "prometheus"
  | "chromium"
  | "nginx"
  | "haproxy"
  | "wrk"
  | "h2load";

/** What a component is made of. */
export interface ComponentSpec<B extends string> {
  /** Executables that must all be found (names, not paths). */
  readonly binaries: readonly B[];
  /** Debian packages that provide them. */
  readonly aptPackages: readonly string[];
}

/** Binary name → absolute path. */
export type ComponentPaths<B extends string> = { readonly [K in B]: string };

const EXTRA_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const cache = new Map<string, Promise<Record<string, string> | undefined>>();
let aptUpdated: Promise<void> | undefined;

async function isExecutable(path: string): Promise<boolean> {
  try {
    const st = await Deno.stat(path);
    return st.isFile && st.mode !== null && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The absolute path of an executable on PATH (or in the usual system dirs), or undefined. */
export async function which(name: string): Promise<string | undefined> {
  if (name.includes("/")) return await isExecutable(name) ? name : undefined;
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), ...EXTRA_DIRS];
  for (const dir of new Set(dirs)) {
    const p = `${dir}/${name}`;
    if (await isExecutable(p)) return p;
  }
  return undefined;
}

async function findAll(binaries: readonly string[]): Promise<{ found: Record<string, string>; missing: string[] }> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const b of binaries) {
    const p = await which(b);
    if (p) found[b] = p;
    else missing.push(b);
  }
  return { found, missing };
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-10).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text}`);
  }
}

const LOCK = ["-o", "DPkg::Lock::Timeout=300"];

async function aptInstall(apt: string, packages: readonly string[]): Promise<void> {
  aptUpdated ??= run(apt, [...LOCK, "update", "-q"]).catch((e) => {
    aptUpdated = undefined; // let a later call try again
    throw e;
  });
  await aptUpdated;
  await run(apt, [...LOCK, "install", "-y", "-q", "--no-install-recommends", ...packages]);
}

function banner(lines: string[]): void {
  const bar = "!".repeat(78);
  console.warn(`\n${bar}\n!!! ${lines.join("\n!!! ")}\n${bar}\n`);
}

async function resolve(
  name: ComponentName,
  spec: ComponentSpec<string>,
): Promise<Record<string, string> | undefined> {
  let { found, missing } = await findAll(spec.binaries);
  if (missing.length === 0) return found;
  const ci = Deno.env.get("CI") === "true";
  let why: string;
  const apt = await which("apt-get");
  let root = false;
  try {
    root = Deno.uid() === 0;
  } catch { /* no --allow-sys: cannot tell, so do not install */ }
  if (root && apt && spec.aptPackages.length) {
    console.warn(`[components] ${name}: ${missing.join(", ")} missing; apt-get install ${spec.aptPackages.join(" ")}`);
    try {
      await aptInstall(apt, spec.aptPackages);
      ({ found, missing } = await findAll(spec.binaries));
      if (missing.length === 0) return found;
      why = `apt-get installed ${spec.aptPackages.join(" ")} but ${missing.join(", ")} is still missing`;
    } catch (e) {
      why = (e as Error).message;
    }
  } else {
    why = !root
      ? "not running as root, so it cannot be installed"
      : !apt
      ? "apt-get is not available, so it cannot be installed"
      : "no Debian package is known for it";
  }
  const message = [
    `COMPONENT "${name}" IS MISSING: ${missing.join(", ")} not found.`,
    ...why.split("\n"),
    `Install: apt-get install ${spec.aptPackages.join(" ")}`,
    ci ? "CI=true: the tests that need it FAIL." : "The tests that need it are SKIPPED.",
  ];
  banner(message);
  if (ci) throw new Error(message.join("\n"));
  return undefined;
}

/**
 * Finds (or installs) a component's binaries. Returns binary name →
 * absolute path, or `undefined` (after a loud warning) when the component
 * is missing and cannot be installed. Throws instead when `CI=true`.
 */
export function requireComponent<B extends string>(
  name: ComponentName,
  spec: ComponentSpec<B>,
): Promise<ComponentPaths<B> | undefined> {
  const key = JSON.stringify([name, spec.binaries, spec.aptPackages]);
  let p = cache.get(key);
  if (!p) {
    p = resolve(name, spec);
    cache.set(key, p);
  }
  return p as Promise<ComponentPaths<B> | undefined>;
}
