/**
 * `image_optim`: re-encodes PNG and JPEG responses, converting them to AVIF
 * or WebP for clients that accept those.
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
  doc:
    "Optimises `image/png` and `image/jpeg` responses. When the client's `Accept` header lists one of `output_types` " +
    "(e.g. `image/avif`), the image is converted to the first such type; otherwise it is re-encoded in its own " +
    "format at the configured quality. The chosen type joins the cache key.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    output_types: field(list("image types"), {
      doc: 'Formats to convert to, in preference order, e.g. `"avif,webp"`. Known: avif, webp, jpeg, png.',
      default: "",
    }),
    png_quality: field(int({ min: 1, max: 100 }), { doc: "PNG quality, 1–100.", default: 90 }),
    jpeg_quality: field(int({ min: 1, max: 100 }), { doc: "JPEG quality, 1–100.", default: 80 }),
    avif_quality: field(int({ min: 1, max: 100 }), { doc: "AVIF quality, 1–100.", default: 75 }),
    avif_speed: field(int({ min: 1, max: 10 }), {
      doc: "AVIF encoder speed, 1 (slowest, smallest) to 10 (fastest).",
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
