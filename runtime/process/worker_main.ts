/**
 * Entry of a worker isolate: receives a Plan, serves it with SO_REUSEPORT
 * so the kernel spreads connections across workers, and answers
 * `swap` and `shutdown` messages. Faults are contained here as in the
 * main isolate (`contain.ts`).
 *
 * @module
 */
import type { Plan } from "../../compiler/mod.ts";
import { startProxy } from "../lifecycle/start.ts";
import type { RunningProxy } from "../lifecycle/serve.ts";
import { configureAppLog, flushAppLog, startAppLog } from "../observe/log/app_log.ts";
import { ChallengeTokens } from "../acme/challenges.ts";
import { handOverCertificate } from "../acme/handoff.ts";
import type { IssuedCertificate } from "../acme/manager.ts";
import { CertStore } from "../tls/mod.ts";
import { containFaults, installTestFault } from "./contain.ts";

// Contained from the first line on: a fault in serving one connection never ends this worker (contain.ts).
containFaults("a worker");
installTestFault();

/**
 * What the main isolate, which runs ACME, shares with every worker: an http-01 token to answer (or to forget, when
 * `keyAuthorization` is null) and a certificate to serve.
 */
export type SharedState =
  | { readonly type: "challenge"; readonly token: string; readonly keyAuthorization: string | null }
  | { readonly type: "certificate"; readonly name: string; readonly cert: IssuedCertificate };

/** Messages from the main isolate. */
export type WorkerMessage =
  | {
    readonly type: "start";
    readonly plan: Plan;
    /** The worker's number, from 1 (a restarted worker keeps the number of the one it replaces). */
    readonly index: number;
    /** The first worker reports for all what every worker would (the certificate validity warnings). */
    readonly first: boolean;
  }
  | { readonly type: "swap"; readonly plan: Plan }
  | SharedState
  | { readonly type: "shutdown" }
  /** The main isolate's liveness check: answered with `pong` at once, whatever else is under way. */
  | { readonly type: "ping" };

/** Messages to the main isolate. */
export type WorkerReply =
  | { readonly type: "started"; readonly listening: RunningProxy["listening"] }
  | { readonly type: "swapped" }
  | { readonly type: "shared" }
  | { readonly type: "stopped" }
  | { readonly type: "pong" }
  | { readonly type: "error"; readonly message: string };

let proxy: RunningProxy | undefined;
// This worker's certificates and tokens: filled from the main isolate's shares, before the start of a worker started
// again, and handed to its proxy.
const certificates = new CertStore();
const challenges = new ChallengeTokens();
const self = globalThis as unknown as {
  onmessage: (e: MessageEvent<WorkerMessage>) => void;
  postMessage(m: WorkerReply): void;
  close(): void;
};

self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === "ping") return self.postMessage({ type: "pong" });
  try {
    if (m.type === "start") {
      containFaults(`worker ${m.index}`);
      // The same log as the main isolate: level, format, and the --log file (appended to by every isolate).
      await startAppLog(Deno.env.get("PINGAP_LOG"), m.plan.basic, false);
      proxy = await startProxy(m.plan, { reusePort: true, reportValidity: m.first, certificates, challenges });
      self.postMessage({ type: "started", listening: proxy.listening });
    } else if (m.type === "challenge") {
      if (m.keyAuthorization === null) await challenges.remove(m.token);
      else await challenges.add(m.token, m.keyAuthorization);
      self.postMessage({ type: "shared" });
    } else if (m.type === "certificate") {
      handOverCertificate(certificates, m.name, m.cert, { quiet: true });
      self.postMessage({ type: "shared" });
    } else if (m.type === "swap") {
      configureAppLog(m.plan.basic);
      await proxy?.swap(m.plan);
      self.postMessage({ type: "swapped" });
    } else {
      await proxy?.shutdown();
      await flushAppLog();
      self.postMessage({ type: "stopped" });
      self.close();
    }
  } catch (err) {
    self.postMessage({ type: "error", message: (err as Error).message });
  }
};
