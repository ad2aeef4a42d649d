/**
 * What a stream of an h2 upstream connection tells its exchange (connection.ts → exchange.ts), the two codes a stream
 * can end with that are not HTTP/2's, and the error that lets the client send a request again.
 *
 * @module
 */

/** A stream's code when its connection ended under it (not an HTTP/2 code). */
export const CONNECTION_LOST = -1;
/** A stream's code when the backend's GOAWAY left it unprocessed (not an HTTP/2 code). */
export const ABOVE_GOAWAY = -2;

/** Statuses whose responses have no body. */
export const NULL_BODY_STATUS: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** The stream was not processed by the backend (refused, above a GOAWAY, or its session went away first). */
export class StreamNotProcessed extends Error {
  /** Creates the error; `bodyUntouched`: no byte of the request body was read, so it can be sent again. */
  constructor(message: string, readonly bodyUntouched: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamNotProcessed";
  }
}

/** One stream as its connection sees it. */
export interface StreamHandler {
  /** Stream id (set when the stream is opened). */
  id: number;
  /** What it may still send (the backend's window for it), bytes. */
  sendWindow: number;
  /** What the backend may still send on it (our window for it), bytes. */
  recvWindow: number;
  /** Bytes read and not yet given back to its window. */
  recvUnacked: number;
  /** Called when a window opened or the stream closed, while the stream waits to send. */
  wake: (() => void) | undefined;
  /** A whole header block (a response head, an interim head, or trailers with `end`). */
  onHeaders(fields: string[], end: boolean): void;
  /** DATA: `bytes` is a view valid only during the call; `flow` counts toward the windows. */
  onData(bytes: Uint8Array, end: boolean, flow: number): void;
  /** The stream ended abnormally: RST_STREAM's code, {@linkcode CONNECTION_LOST} or {@linkcode ABOVE_GOAWAY}. */
  onReset(code: number, detail: string): void;
}
