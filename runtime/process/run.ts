/**
 * Running the proxy after the config compiled: listeners (or worker
 * isolates), the pid file and `--upgrade` takeover, ACME, and the reload
 * loop (SIGHUP, file watching, the etcd watch) until a stop signal.
 *
 * @module
 */
import { checkConfig, type CheckOptions, isEtcdUrl, watchConfig, watchEtcd } from "../storage/mod.ts";
import { setAdminContext } from "../admin/mod.ts";
import { certificateFingerprint, CertStore } from "../tls/mod.ts";
import { formatText, type Plan } from "../../compiler/mod.ts";
import { createNotifier, type Notifier } from "../observe/notify.ts";
import { diffPlans } from "./plan_diff.ts";
import { startProxy } from "../lifecycle/start.ts";
import type { RunningProxy } from "../lifecycle/serve.ts";
import { startWorkers, workerCount, type WorkerGroup } from "./workers.ts";
import { ChallengeTokens, handOverCertificate, type IssuedCertificate, startAcme } from "../acme/mod.ts";
import { busyAddresses, migrateHint, pidFilePath, takeOver, writePidFile } from "./upgrade.ts";
import { configureAppLog, log } from "../observe/log/app_log.ts";
import { LogCompressor } from "../observe/log/compress.ts";
import { configReloaded } from "../observe/metrics/mod.ts";
import { containFaults, installTestFault } from "./contain.ts";

/** How a CertificateError's message begins (runtime/tls/mod.ts). */
const CERTIFICATE_ERROR = "Certificates cannot be served:";

/** The `--log` value (cli.ts passes it on as PINGAP_LOG). */
function envLog(): string | undefined {
  try {
    return Deno.env.get("PINGAP_LOG");
  } catch {
    return undefined;
  }
}

function applyThreads(plan: Plan, threads: number | undefined): Plan {
  if (threads === undefined) return plan;
  return { ...plan, servers: plan.servers.map((s) => ({ ...s, threads })) };
}

interface Target {
  swap(plan: Plan): Promise<void>;
  shutdown(): Promise<void>;
}

/** What {@linkcode run} takes besides the config. */
export interface RunOptions {
  readonly autoreload: boolean;
  readonly upgrade: boolean;
  readonly threads?: number;
  /** The command line's additions to the config (`--admin`), applied at every reload as at start. */
  readonly amend?: CheckOptions["amend"];
  /**
   * Compiles the config again on reload instead of reading `conf` (the quick start compiles its flags); with it
   * there is no file to watch, and `conf` only says where ACME state is kept.
   */
  readonly load?: () => Promise<{
    readonly readError?: string;
    readonly plan?: Plan;
    readonly diagnostics: Parameters<typeof formatText>[0];
  }>;
}

/**
 * Serves a plan until a stop signal (SIGINT, SIGTERM, SIGQUIT); reloads on
 * SIGHUP, on file changes with `autoreload`, and on etcd changes. Returns
 * the exit code.
 */
export async function run(
  conf: string,
  first: Plan,
  options: RunOptions,
): Promise<number> {
  // A fault in serving one connection is logged and counted, never the end of the process (contain.ts).
  containFaults("main");
  installTestFault();
  let current = applyThreads(first, options.threads);
  const count = workerCount(current);
  const pidFile = pidFilePath(current);
  // SIGHUP and the watch are set up before listening: a change made as soon as the proxy says it listens must not be
  // missed. Until the reload loop is ready (below), one is remembered and applied then. The watch outlives a config
  // renamed over or a directory moved into place (storage/config_watch.ts).
  let early: string | undefined;
  let reload = (reason: string) => void (early ??= reason);
  const onHangup = () => reload("SIGHUP");
  Deno.addSignalListener("SIGHUP", onHangup);
  const watcher = options.autoreload && !options.load && !isEtcdUrl(conf)
    ? watchConfig(conf, () => reload("file change"), {
      onError: (e) => console.error(`autoreload: watching ${conf}: ${e.message}`),
    })
    : undefined;
  if (!options.upgrade) {
    const busy = busyAddresses(current);
    if (busy.length) {
      console.error(
        `Cannot start: already in use: ${busy.join(", ")}. ` +
          `To replace a running pingap without downtime, start the new one with --upgrade.`,
      );
      watcher?.close();
      Deno.removeSignalListener("SIGHUP", onHangup);
      return 1;
    }
  }
  let target: Target;
  // Serving in this isolate (one worker): its certificates, tokens and notifier are the ones ACME and reloads use.
  let proxy: RunningProxy | undefined;
  try {
    if (count <= 1) {
      // SO_REUSEPORT always, so that a later `--upgrade` can bind the same ports.
      proxy = await startProxy(current, { reusePort: true });
      for (const l of proxy.listening) {
        const engine = l.tlsEngine ? ` with ${l.tlsEngine}` : "";
        log.info(`server ${l.server} listening on ${l.tls ? "https" : "http"}://${l.hostname}:${l.port}${engine}`);
      }
      target = proxy;
    } else {
      target = await startWorkers(current, count);
      for (const s of current.servers) {
        log.info(
          `server ${s.name} listening on ${
            s.addrs.map((a) => `${a.hostname}:${a.port}`).join(", ")
          } with ${count} workers`,
        );
      }
    }
  } catch (e) {
    console.error(`Cannot start: ${(e as Error).message}`);
    watcher?.close();
    Deno.removeSignalListener("SIGHUP", onHangup);
    return 1;
  }
  if (options.upgrade) {
    const hint = migrateHint();
    if (hint) log.warn(hint);
    const old = takeOver(pidFile);
    log.info(old ? `upgrade: took over from pid ${old}, which drains and exits` : "upgrade: no running instance");
  }
  const removePidFile = writePidFile(pidFile);
  // Old rolled log files (`--log`, access-log files) compressed once a day, off the request path (basic.log_compress_*).
  const compressor = new LogCompressor(current, envLog()).start();
  // The notifier of the plan serving now: the proxy's (one batch with its own events), or, with workers, this
  // isolate's for the plan it last applied.
  let own: Notifier | undefined;
  const notifier = () => proxy?.notifier ?? (own ??= createNotifier(current.basic));
  // ACME certificates: issued or loaded from the storage beside the config, handed to the TLS store.
  // With workers, this isolate runs ACME and the workers serve: they get the http-01 tokens and the certificates
  // (this isolate's store only checks them).
  const group = count > 1 ? target as WorkerGroup : undefined;
  const store = proxy?.certificates ?? new CertStore();
  const challenges = proxy?.challenges ??
    new ChallengeTokens((token, keyAuthorization) => group!.share({ type: "challenge", token, keyAuthorization }));
  // As Pingap after an ACME order: a certificate that cannot be installed is `parse_certificate_fail`.
  const onRefused = (message: string) =>
    void notifier().notify({ category: "parse_certificate_fail", level: "error", message });
  const onCertificate = !group
    ? (name: string, cert: IssuedCertificate) => handOverCertificate(store, name, cert, { onRefused })
    : (name: string, cert: IssuedCertificate) => {
      // Logged ("serves …") once every worker has it.
      group.share({ type: "certificate", name, cert }).then(
        () => handOverCertificate(store, name, cert, { onRefused }),
        (e) => console.error(`acme: "${name}": handing the certificate to the workers failed: ${(e as Error).message}`),
      );
    };
  const acmeOptions = { notifier, onCertificate, challenges };
  let acme = startAcme(conf, current, acmeOptions);
  // Certificate files may be rewritten in place (a renewal) with the config unchanged: a reload applies them too.
  let certificates = await certificateFingerprint(current);
  let reloading = Promise.resolve();
  reload = (reason: string) => {
    reloading = reloading.then(async () => {
      const r = await (options.load ?? (() => checkConfig(conf, options.amend ? { amend: options.amend } : {})))();
      if (r.readError || !r.plan) {
        const msg = r.readError ?? formatText(r.diagnostics.filter((d) => d.severity === "error"));
        console.error(`reload (${reason}) failed, the current config keeps serving:\n${msg}`);
        configReloaded(false);
        await notifier().notify({ category: "reload_config_fail", level: "error", message: msg });
        return;
      }
      const next = applyThreads(r.plan, options.threads);
      const nextCertificates = await certificateFingerprint(next);
      const unchanged = next.hash === current.hash;
      if (unchanged && nextCertificates === certificates) {
        log.info(`reload (${reason}): config unchanged`);
        return;
      }
      const changes = unchanged ? ["certificate files changed"] : diffPlans(current, next);
      try {
        await target.swap(next);
      } catch (e) {
        console.error(`reload (${reason}) failed: ${(e as Error).message}`);
        configReloaded(false);
        await notifier().notify({ category: "reload_config_fail", level: "error", message: (e as Error).message });
        // As Pingap's certificate reload: a certificate the TLS store refused (it cannot be read, parsed or matched
        // with its key; runtime/tls CertificateError, from a worker by its message) is also its own event.
        if ((e as Error).name === "CertificateError" || (e as Error).message.startsWith(CERTIFICATE_ERROR)) {
          await notifier().notify({
            category: "parse_certificate_fail",
            level: "error",
            message: (e as Error).message,
          });
        }
        return;
      }
      current = next;
      certificates = nextCertificates;
      configReloaded(true);
      if (acme) acme.update(current);
      else acme = startAcme(conf, current, acmeOptions);
      own = undefined;
      configureAppLog(current.basic);
      compressor.update(current);
      log.info(`reload (${reason}): ${changes.join("; ") || "applied"}`);
      await notifier().notify({ category: "reload_config", level: "info", message: changes.join("\n") });
      await notifier().notify({ category: "diff_config", level: "info", message: changes.join("\n") });
    });
  };
  // Admin API hook (runtime/admin): a saved change is applied by this same reload path; resolves with what serves.
  setAdminContext({ reload: (why) => (reload(why), reloading.then(() => current)), current: () => current });
  // A change or SIGHUP that came while starting is applied now.
  if (early) reload(early);
  let etcd: { close(): unknown } | undefined;
  if (!options.load && isEtcdUrl(conf)) {
    // etcd delivers changes by its watch, with or without --autoreload.
    etcd = watchEtcd(conf, () => reload("etcd change"), {
      onError: (e: Error) => console.error(`etcd watch: ${e.message}`),
    });
  }
  const done = Promise.withResolvers<void>();
  for (const sig of ["SIGINT", "SIGTERM", "SIGQUIT"] as const) Deno.addSignalListener(sig, () => done.resolve());
  await done.promise;
  log.info("shutting down: no new connections, finishing requests in flight");
  watcher?.close();
  await etcd?.close();
  await reloading;
  // Notifications still waiting for their batch window go now (webhook_batch_window).
  await notifier().flush();
  await acme?.close();
  await compressor.close();
  await target.shutdown();
  removePidFile();
  return 0;
}
