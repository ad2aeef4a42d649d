/**
 * The fixed answers of the access plugins (ip, ua, referer restriction,
 * limit): Pingap's plain response, made once per plugin instance.
 *
 * @module
 */
import { StaticAnswer } from "../http/static_answer.ts";

/** Pingap's plugin answers carry `cache-control: private, no-cache`; the content type is a string body's. */
const FIELDS: readonly (readonly [string, string])[] = [
  ["cache-control", "private, no-cache"],
  ["content-type", "text/plain;charset=UTF-8"],
];

/** A fixed plain-text answer with `status`, `body` and `extra` header fields. */
export function plainAnswer(
  status: number,
  body: string,
  extra: readonly (readonly [string, string])[] = [],
): StaticAnswer {
  return new StaticAnswer(status, [...FIELDS, ...extra], body);
}
