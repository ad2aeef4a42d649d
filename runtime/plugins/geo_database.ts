/**
 * MaxMind-format (`.mmdb`) databases for `geo_restriction`, read with
 * `mmdb-lib`: one copy per path, shared by the plugins that name it while
 * any holds it, and read again (off the request) when its file changes.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Reader } from "mmdb-lib";
import { parseIp } from "../../compiler/mod.ts";
import { appLog } from "../observe/log/app_log.ts";

type Record = { readonly [key: string]: unknown };

/** Two ASCII letters, upper-cased; else undefined. */
function code(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z]{2}$/.test(value) ? value.toUpperCase() : undefined;
}

/**
 * The country of a database record: `country.iso_code` (MaxMind, DB-IP), then the flat `country_code` or `country`
 * (ip-location-db and others), as Pingap 0.16 reads it.
 *
 * @example Usage
 * ```ts
 * import { recordCountry } from "./geo_database.ts";
 * if (recordCountry({ country: { iso_code: "de" } }) !== "DE") throw new Error();
 * if (recordCountry({ country_code: "US" }) !== "US" || recordCountry(null) !== undefined) throw new Error();
 * ```
 */
export function recordCountry(record: Record | null | undefined): string | undefined {
  if (record === null || record === undefined) return undefined;
  const country = record.country;
  const nested = typeof country === "object" && country !== null ? (country as Record).iso_code : undefined;
  return code(nested) ?? code(record.country_code) ?? code(country);
}

/** An IPv4-mapped address (`::ffff:a.b.c.d`, in any spelling) as `a.b.c.d`: as IPv6 it has no country. */
export function canonicalIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  const a = parseIp(ip);
  if (a === undefined || !a.v6 || a.bytes[10] !== 0xff || a.bytes[11] !== 0xff) return ip;
  for (let i = 0; i < 10; i++) if (a.bytes[i] !== 0) return ip;
  return a.bytes.slice(12).join(".");
}

function open(path: string): Reader<Record> {
  return new Reader<Record>(Buffer.from(Deno.readFileSync(path)));
}

function mtime(info: Deno.FileInfo): number {
  return info.mtime?.getTime() ?? 0;
}

/** One database file, loaded. */
export class GeoDatabase {
  #reader: Reader<Record>;
  #modified: number;
  #checking = false;
  #missing = false;
  refs = 0;

  /** Reads `path` now; throws when it is missing or no database. */
  constructor(readonly path: string) {
    try {
      this.#modified = mtime(Deno.statSync(path));
      this.#reader = open(path);
    } catch (e) {
      throw new Error(`geo_restriction: database ${path} can not be read: ${(e as Error).message}`);
    }
  }

  /** The country of `ip` (upper case), or undefined when the database has none or `ip` is no address. */
  country(ip: string): string | undefined {
    try {
      return recordCountry(this.#reader.get(canonicalIp(ip)));
    } catch {
      return undefined;
    }
  }

  /**
   * Reads the file again if it changed, in the background. A file that is missing or cannot be read (being written,
   * no database) leaves the loaded one in place, and is tried again next time.
   */
  refresh(): void {
    if (this.#checking) return;
    this.#checking = true;
    void (async () => {
      try {
        let info: Deno.FileInfo;
        try {
          info = await Deno.stat(this.path);
        } catch {
          if (!this.#missing) appLog("warn", "geo database is not there, the loaded one is kept", { path: this.path });
          this.#missing = true;
          return;
        }
        this.#missing = false;
        if (mtime(info) === this.#modified) return;
        try {
          const reader = new Reader<Record>(Buffer.from(await Deno.readFile(this.path)));
          this.#reader = reader;
          this.#modified = mtime(info);
          appLog("info", "geo database reloaded", { path: this.path });
        } catch (e) {
          appLog("warn", "geo database can not be reloaded, the loaded one is kept", {
            path: this.path,
            error: (e as Error).message,
          });
        }
      } finally {
        this.#checking = false;
      }
    })();
  }
}

const loaded = new Map<string, GeoDatabase>();

/** The database at `path`: the one already loaded, or read now (throws when it cannot be). Release it once. */
export function acquireGeoDatabase(path: string): GeoDatabase {
  let db = loaded.get(path);
  if (db === undefined) {
    db = new GeoDatabase(path);
    loaded.set(path, db);
  }
  db.refs++;
  return db;
}

/** Gives back what {@linkcode acquireGeoDatabase} returned; the last release drops the database. */
export function releaseGeoDatabase(db: GeoDatabase): void {
  if (--db.refs > 0) return;
  if (loaded.get(db.path) === db) loaded.delete(db.path);
}
