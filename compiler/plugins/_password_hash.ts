/**
 * The password hashes an `htpasswd` entry may hold, read without computing
 * anything: bcrypt (`$2a$`, `$2b$`, `$2x$`, `$2y$`, what `htpasswd -B`
 * writes) and argon2 in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
 *
 * @module
 */

/** The hash functions of an `htpasswd` entry. */
export type PasswordHashKind = "bcrypt" | "argon2";

/** The kind of `hash`, by how it starts; undefined for anything else. */
export function passwordHashKind(hash: string): PasswordHashKind | undefined {
  if (/^\$2[abxy]\$/.test(hash)) return "bcrypt";
  return hash.startsWith("$argon2") ? "argon2" : undefined;
}

/** bcrypt: the cost in two digits, then 22 characters of salt and 31 of hash in bcrypt's base64. */
const BCRYPT = /^\$2[abxy]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** argon2 (PHC): variant, optional version, the three parameters, salt and hash in unpadded base64. */
const ARGON2 = /^\$argon2(?:id|i|d)\$(?:v=(\d+)\$)?m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/**
 * Why `hash` of `kind` cannot be used, or undefined when it can: a bcrypt cost outside 4–31 or argon2 parameters
 * out of range would parse and then match no password.
 *
 * @example Usage
 * ```ts
 * import { passwordHashProblem } from "./_password_hash.ts";
 * const ok = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
 * if (passwordHashProblem("bcrypt", ok) !== undefined) throw new Error();
 * if (passwordHashProblem("bcrypt", "$2y$99$x") === undefined) throw new Error();
 * ```
 */
export function passwordHashProblem(kind: PasswordHashKind, hash: string): string | undefined {
  if (kind === "bcrypt") {
    const m = BCRYPT.exec(hash);
    if (!m) return "is not a bcrypt hash ($2y$<cost>$ and 53 characters)";
    const cost = Number(m[1]);
    return cost < 4 || cost > 31 ? `has cost ${cost}, outside 4-31` : undefined;
  }
  const m = ARGON2.exec(hash);
  if (!m) return "is not an argon2 hash in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$hash)";
  const [, version, memory, time, lanes, salt, digest] = m;
  if (version !== undefined && version !== "16" && version !== "19") return `has version ${version}, not 16 or 19`;
  const p = Number(lanes), t = Number(time), mem = Number(memory);
  if (p < 1 || p > 0xffffff) return "has p outside 1-16777215";
  if (t < 1) return "has t below 1";
  if (mem < 8 * p || mem > 0xffffffff) return "has m below 8 × p";
  if (salt!.length < 11) return "has a salt shorter than 8 bytes";
  if (digest!.length < 6) return "has a hash shorter than 4 bytes";
  return undefined;
}
