/**
 * The image codec of `image_optim`: decodes a PNG or JPEG and encodes it as WebP (lossless, as Pingap), AVIF, JPEG
 * (mozjpeg) or PNG (palette-quantised, as Pingap's imagequant), with sharp (libvips, a Node-API addon from the npm
 * registry). sharp runs its work on libuv's thread pool, so a conversion never holds the event loop; it is loaded on
 * first use, so a process without an `image_optim` location never loads libvips. A codec that cannot load or cannot
 * read an image yields `undefined`: the caller passes the original through.
 *
 * @module
 */

/** What the codec can write. */
export type ImageFormat = "avif" | "webp" | "jpeg" | "png";

/** Encoder settings (the plugin's keys). */
export interface EncodeOptions {
  readonly pngQuality: number;
  readonly jpegQuality: number;
  readonly avifQuality: number;
  /** 1 (slow, small) to 10 (fast), Pingap's rav1e speed, run as libaom's speed (sharp's effort `9 - speed`, at least 0). */
  readonly avifSpeed: number;
}

/** Images with more pixels than this are not decoded (a small file may claim a huge canvas). */
export const MAX_PIXELS = 40_000_000;

// deno-lint-ignore no-explicit-any
type Sharp = any;
let loading: Promise<Sharp | undefined> | undefined;

/** sharp, loaded once; undefined (logged once) when the addon cannot load here. */
function loadSharp(): Promise<Sharp | undefined> {
  return loading ??= import("sharp").then(
    (m) => {
      const sharp = m.default;
      // Each image is converted once per request: libvips' operation cache would only hold memory.
      sharp.cache(false);
      return sharp;
    },
    (e) => {
      console.error(`image_optim: the image codec (sharp) cannot load, images pass through unchanged: ${e}`);
      return undefined;
    },
  );
}

/**
 * `bytes` encoded as `to`, or undefined when the codec cannot load, the bytes are no image it reads (or more than
 * {@linkcode MAX_PIXELS}), or encoding fails. Never throws.
 *
 * @example Usage
 * ```ts ignore
 * import { encodeImage } from "./image_codec.ts";
 * const webp = await encodeImage(pngBytes, "webp", { pngQuality: 90, jpegQuality: 80, avifQuality: 75, avifSpeed: 3 });
 * ```
 */
export async function encodeImage(
  bytes: Uint8Array,
  to: ImageFormat,
  options: EncodeOptions,
): Promise<Uint8Array | undefined> {
  const sharp = await loadSharp();
  if (sharp === undefined) return undefined;
  try {
    // `failOn: "error"`: a truncated or corrupt image is refused, not half decoded.
    const image = sharp(bytes, { failOn: "error", limitInputPixels: MAX_PIXELS });
    const out: Uint8Array = await (
      to === "webp"
        ? image.webp({ lossless: true })
        : to === "avif"
        ? image.avif({ quality: options.avifQuality, effort: Math.min(9, Math.max(0, 9 - options.avifSpeed)) })
        : to === "jpeg"
        ? image.jpeg({ quality: options.jpegQuality, mozjpeg: true })
        : image.png({ palette: true, quality: options.pngQuality, dither: 1 })
    ).toBuffer();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return undefined;
  }
}
