/**
 * An upstream's `ca`: the PEM its backends' certificates are verified
 * against, given as PEM text, base64 of PEM or a file path (as
 * certificates are). Read when the upstream's client is made, at start and
 * at the reload that brings the upstream; a file that cannot be read fails
 * that start or reload, never a request.
 *
 * @module
 */
import { material } from "../../compiler/certificate_material.ts";
import type { UpstreamPlan } from "../../compiler/plan.ts";

/**
 * The CA certificates of `plan` (`config.ca`), or undefined when it has none.
 *
 * @example Usage
 * ```ts
 * import { upstreamCaCerts } from "./upstream_ca.ts";
 * const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
 * if (upstreamCaCerts({ name: "u", config: { ca: pem } } as never)?.[0] !== pem) throw new Error();
 * ```
 */
export function upstreamCaCerts(plan: UpstreamPlan): string[] | undefined {
  const ca = plan.config.ca;
  if (ca === undefined) return undefined;
  let home = "";
  try {
    home = Deno.env.get("HOME") ?? "";
  } catch {
    // no --allow-env: `~` stays unexpanded
  }
  const m = material(ca, home);
  if (m.kind === "pem") return [m.pem];
  try {
    return [Deno.readTextFileSync(m.path)];
  } catch (e) {
    throw new Error(`upstream(${plan.name}): ca "${m.path}" cannot be read: ${(e as Error).message}`);
  }
}
