/**
 * `image_optim`: re-encodes PNG and JPEG responses, converting them to AVIF
 * or WebP for clients that accept those. The runtime half is
 * runtime/plugins/image_optim.ts (codecs: sharp, runtime/plugins/image_codec.ts).
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { field, int, list } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** Image formats the plugin can produce. */
export const OUTPUT_TYPES = ["avif", "webp", "jpeg", "png"] as const;

/** An image format the plugin can produce. */
export type ImageType = typeof OUTPUT_TYPES[number];

/** Compiled `image_optim` config. */
export interface ImageOptimPlan {
  /** Formats to convert to, in preference order, when the client's Accept lists `image/<type>`. */
  readonly outputTypes: readonly ImageType[];
  /** PNG quality, 1–100. */
  readonly pngQuality: number;
  /** JPEG quality, 1–100. */
  readonly jpegQuality: number;
  /** AVIF quality, 1–100. */
  readonly avifQuality: number;
  /** AVIF encoder speed, 1 (slow, small) to 10 (fast). */
  readonly avifSpeed: number;
}

/** The `image_optim` plugin. */
export const imageOptim = definePlugin({
  category: "image_optim",
  doc: "Optimises the upstream's `200` answers of type `image/png` and `image/jpeg` to a request with an `Accept` " +
    "header. When `Accept` contains `image/<type>` for one of `output_types`, the image is converted to the first " +
    "such type (WebP lossless, AVIF at `avif_quality`/`avif_speed`); otherwise it is re-encoded in its own format " +
    "(PNG palette-quantised at `png_quality`, JPEG with mozjpeg at `jpeg_quality`) and sent only when smaller. Such " +
    "answers get `Vary: Accept`. Images over 10 MiB, encoded (`Content-Encoding`) or marked `no-transform`, and any " +
    "image the codec cannot read, pass through as they came.",
  steps: { allowed: ["request"], default: "request" },
  runtime: true,
  fields: {
    output_types: field(list("image types"), {
      doc: 'Formats to convert to, in preference order, e.g. `"avif,webp"` (comma string or array). Known: avif, ' +
        "webp, jpeg, png. Empty: images are only re-encoded in their own format.",
      default: "",
    }),
    png_quality: field(int({ min: 1, max: 100 }), {
      doc: "PNG quality, 1–100: the palette quantiser's target when a PNG is re-encoded as PNG.",
      default: 90,
    }),
    jpeg_quality: field(int({ min: 1, max: 100 }), {
      doc: "JPEG quality, 1–100, when an image is encoded as JPEG (mozjpeg).",
      default: 80,
    }),
    avif_quality: field(int({ min: 1, max: 100 }), { doc: "AVIF quality, 1–100.", default: 75 }),
    avif_speed: field(int({ min: 1, max: 10 }), {
      doc:
        "AVIF encoder speed, 1 (slowest, smallest) to 10 (fastest); runs as libaom speed `avif_speed` (9 at most; sharp effort `9 - speed`).",
      default: 3,
    }),
  },
  compile(config, ctx): ImageOptimPlan {
    const outputTypes: ImageType[] = [];
    for (const item of config.output_types) {
      const type = item.toLowerCase() === "jpg" ? "jpeg" : item.toLowerCase();
      if (!(OUTPUT_TYPES as readonly string[]).includes(type)) {
        ctx.diags.push(
          diag("invalid-value", [...ctx.path, "output_types"], `Image type ${JSON.stringify(item)} is not supported`, {
            hint: `Use some of: ${OUTPUT_TYPES.join(", ")}`,
          }),
        );
      } else if (!outputTypes.includes(type as ImageType)) {
        outputTypes.push(type as ImageType);
      }
    }
    return {
      outputTypes,
      pngQuality: config.png_quality,
      jpegQuality: config.jpeg_quality,
      avifQuality: config.avif_quality,
      avifSpeed: config.avif_speed,
    };
  },
});
