/**
 * The worker that computes password hashes (bcrypt, argon2) for
 * password_verifier.ts, so that the tens of milliseconds a hash costs by
 * design are never spent on a thread that serves requests.
 *
 * Message in: `{ id, kind, password, hash }`; out: `{ id, ok }` (`ok` false
 * also when the hash cannot be read).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { argon2Verify, bcryptVerify } from "hash-wasm";

/** One verification asked of the worker. */
interface Job {
  readonly id: number;
  readonly kind: "bcrypt" | "argon2";
  readonly password: Uint8Array;
  readonly hash: string;
}

self.onmessage = async (e: MessageEvent<Job>) => {
  const { id, kind, password, hash } = e.data;
  let ok = false;
  try {
    ok = kind === "bcrypt" ? await bcryptVerify({ password, hash }) : await argon2Verify({ password, hash });
  } catch {
    ok = false;
  }
  self.postMessage({ id, ok });
};
