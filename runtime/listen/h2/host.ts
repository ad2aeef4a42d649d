/**
 * What an HTTP/2 connection (connection.ts) asks of the engine that serves it (engine.ts).
 *
 * @module
 */
import type { H2Connection } from "./connection.ts";
import type { H2Settings } from "./settings.ts";
import type { H2Stream } from "./stream.ts";

/** What a connection asks of the engine. */
export interface ConnectionHost {
  readonly settings: H2Settings;
  /** A request's head came (its body may follow): answer it (response.ts). */
  serve(conn: H2Connection, stream: H2Stream): void;
  /** An answer the connection makes itself (431, 400, 405): the engine writes it. */
  answer(conn: H2Connection, stream: H2Stream, status: number): void;
  /** The URL authority of a request that names none. */
  authority(): string;
  /** A connection error of a client (its GOAWAY code and why), for the log. */
  log?(conn: H2Connection, code: number, message: string): void;
}
