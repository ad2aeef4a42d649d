/**
 * The HPACK static table (RFC 7541 Appendix A): 61 fixed header fields, index 1 to 61, and the lookups the encoder
 * uses (exact name + value, and name alone, each by a Map built once).
 *
 * @module
 */

/** Static table entries, `STATIC_TABLE[i - 1]` is index `i`: `[name, value]`. */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** Number of static entries (61); dynamic entries start at index 62. */
export const STATIC_COUNT = 61;

/** Static names, `STATIC_NAMES[i]` is index `i` (slot 0 unused), for the decoder's hot path. */
export const STATIC_NAMES: readonly string[] = ["", ...STATIC_TABLE.map((e) => e[0])];
/** Static values, indexed like {@linkcode STATIC_NAMES}. */
export const STATIC_VALUES: readonly string[] = ["", ...STATIC_TABLE.map((e) => e[1])];

/** Name → lowest static index with that name. */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = buildNameIndex();
/** Name → (value → static index), only for the entries whose value is not empty or that repeat a name. */
export const STATIC_PAIR_INDEX: ReadonlyMap<string, ReadonlyMap<string, number>> = buildPairIndex();

function buildNameIndex(): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i < STATIC_TABLE.length; i++) {
    const name = STATIC_TABLE[i]![0];
    if (!map.has(name)) map.set(name, i + 1);
  }
  return map;
}

function buildPairIndex(): Map<string, Map<string, number>> {
  const map = new Map<string, Map<string, number>>();
  for (let i = 0; i < STATIC_TABLE.length; i++) {
    const [name, value] = STATIC_TABLE[i]!;
    let values = map.get(name);
    if (values === undefined) map.set(name, values = new Map());
    if (!values.has(value)) values.set(value, i + 1);
  }
  return map;
}
