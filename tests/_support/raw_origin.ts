/**
 * An origin on a raw TCP listener that keeps every request it reads as the bytes came and answers each with
 * `200 ok`: the recording origin (tests/_support/recording_origin.ts) with that one answer, under the names its
 * first users know it by.
 *
 * @module
 */
import { answer, type ParsedRequest, type RecordingOrigin, startRecordingOrigin } from "./recording_origin.ts";

/** A request as the origin read it. */
export type RawRequest = ParsedRequest;

/** A running raw origin. */
export type RawOrigin = RecordingOrigin;

/** Starts one on a free port. */
export function startRawOrigin(): RawOrigin {
  return startRecordingOrigin(() => ({ answer: answer("ok") }));
}
