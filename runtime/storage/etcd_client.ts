/**
 * A small etcd v3 client over etcd's JSON gateway (`fetch`, no dependency):
 * unary calls with host failover, auth tokens, and streams (for watch).
 *
 * - Hosts are tried in turn: a host that cannot be reached (refused,
 *   reset, no answer within `connect_timeout`, or etcd saying it is
 *   unavailable) passes the request to the next one; an answer from etcd
 *   (an error included) is final.
 * - `timeout` bounds a whole request; `connect_timeout` bounds the wait for
 *   the answer's headers, so a dead host is left after that.
 * - `user` and `password` authenticate (`/v3/auth/authenticate`); the token
 *   goes in the `Authorization` header and is fetched again when etcd says
 *   it expired.
 *
 * The gateway is `/v3/…` since etcd 3.4 (Debian bookworm ships 3.4.23),
 * `/v3beta/…` in 3.3; a host answering 404 on `/v3/` is asked on
 * `/v3beta/`. Keys and values travel base64. A prefix is read a page at a
 * time, every page at the first page's revision, so a read is one
 * consistent snapshot.
 *
 * @module
 */
import { b64, prefixRangeEnd, unb64 } from "./etcd_bytes.ts";
import { type EtcdConfig, parseEtcdUrl } from "./etcd_url.ts";

/** etcd answered with an error (not a transport problem). */
export class EtcdError extends Error {
  /** gRPC status code. */
  readonly code: number;
  /** Creates the error. */
  constructor(message: string, code: number) {
    super(message);
    this.name = "EtcdError";
    this.code = code;
  }
}

/** The host could not be used; the next one may be. */
class Unreachable extends Error {
  override name = "Unreachable";
}

const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

interface Endpoint {
  readonly base: string;
  api: string;
  token?: string;
}

/** A key and value as the gateway sends them. */
export interface RawKv {
  readonly key: string;
  readonly value?: string;
  readonly mod_revision?: string;
  readonly create_revision?: string;
}

/** The part of an answer's header that is used. */
export interface ResponseHeader {
  readonly revision?: string;
}

/** etcd's error in an answer, an `Unreachable` for a non-etcd HTTP error, or undefined. */
function etcdErrorOf(status: number, text: string): EtcdError | Unreachable | undefined {
  let body: { error?: string; message?: string; code?: number } | undefined;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  if (body && (body.error !== undefined || body.message !== undefined) && body.code !== undefined) {
    return new EtcdError(body.message ?? body.error ?? "", body.code);
  }
  if (status >= 400) {
    return new Unreachable(`HTTP ${status} ${JSON.stringify(text.slice(0, 100))}: not an etcd gateway?`);
  }
  return undefined;
}

/** An error's message with its causes (fetch says only "fetch failed"). */
function describe(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e; x !== undefined && parts.length < 4; x = (x as { cause?: unknown }).cause) {
    const m = x instanceof Error ? x.message : String(x);
    if (m && !parts.includes(m)) parts.push(m);
    if (!(x instanceof Error)) break;
  }
  return parts.join(": ");
}

function unreachableIfUnavailable(ep: Endpoint, err: EtcdError | Unreachable): Error {
  if (err instanceof Unreachable || err.code === UNAVAILABLE) return new Unreachable(`${ep.base}: ${err.message}`);
  return err;
}

function isTokenError(e: unknown): boolean {
  return e instanceof EtcdError &&
    (e.code === UNAUTHENTICATED || /invalid auth token|user name is empty/.test(e.message));
}

/**
 * A small etcd v3 client over the JSON gateway: unary calls with
 * host failover, auth tokens, and streams (for watch).
 */
export class EtcdClient {
  readonly config: EtcdConfig;
  #endpoints: Endpoint[];
  /** Index of the host that last answered; tried first. */
  #preferred = 0;

  /** Creates a client; nothing is sent until a call. */
  constructor(config: EtcdConfig | string) {
    this.config = typeof config === "string" ? parseEtcdUrl(config) : config;
    this.#endpoints = this.config.endpoints.map((base) => ({ base, api: "/v3" }));
  }

  /** Sends one request to one host; the Response once its headers came. */
  async #send(
    ep: Endpoint,
    method: string,
    body: unknown,
    signal: AbortSignal | undefined,
    stream: boolean,
  ): Promise<{ res: Response; done: () => void }> {
    if (signal?.aborted) throw signal.reason;
    const ac = new AbortController();
    const { connectTimeoutMs, timeoutMs } = this.config;
    const connectTimer = setTimeout(
      () => ac.abort(new Unreachable(`no answer from ${ep.base} within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    const totalTimer = stream ? undefined : setTimeout(
      () => ac.abort(new Unreachable(`${ep.base} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = () => {
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
    };
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (ep.token) headers.authorization = ep.token;
    try {
      for (;;) {
        const res = await fetch(`${ep.base}${ep.api}${method}`, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, ac.signal]) : ac.signal,
        });
        if (res.status === 404 && ep.api === "/v3") {
          await res.body?.cancel();
          ep.api = "/v3beta"; // etcd 3.3
          continue;
        }
        clearTimeout(connectTimer);
        return { res, done };
      }
    } catch (e) {
      done();
      if (signal?.aborted) throw signal.reason;
      const reason = ac.signal.aborted ? ac.signal.reason : e;
      throw reason instanceof Unreachable
        ? reason
        : new Unreachable(`${ep.base}: ${describe(reason)}`, { cause: reason });
    }
  }

  async #unaryOnce<T>(ep: Endpoint, method: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const { res, done } = await this.#send(ep, method, body, signal, false);
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw e instanceof Unreachable ? e : new Unreachable(`${ep.base}: ${describe(e)}`, { cause: e });
    } finally {
      done();
    }
    const err = etcdErrorOf(res.status, text);
    if (err) throw unreachableIfUnavailable(ep, err);
    return JSON.parse(text) as T;
  }

  async #authenticate(ep: Endpoint, signal?: AbortSignal): Promise<void> {
    const { user, password } = this.config;
    if (user === undefined || password === undefined) return;
    delete ep.token;
    const r = await this.#unaryOnce<{ token?: string }>(ep, "/auth/authenticate", { name: user, password }, signal);
    if (!r.token) throw new EtcdError("etcd authentication returned no token", UNAUTHENTICATED);
    ep.token = r.token;
  }

  /** Forgets the auth tokens: the next call authenticates again. */
  resetAuth(): void {
    for (const ep of this.#endpoints) delete ep.token;
  }

  /** Runs `fn` on each host in turn until one is reachable. */
  async #failover<T>(fn: (ep: Endpoint) => Promise<T>, signal?: AbortSignal, sameHost = false): Promise<T> {
    const problems: string[] = [];
    const n = sameHost ? 1 : this.#endpoints.length;
    for (let i = 0; i < n; i++) {
      const index = (this.#preferred + i) % this.#endpoints.length;
      const ep = this.#endpoints[index]!;
      try {
        if (this.config.user !== undefined && !ep.token) await this.#authenticate(ep, signal);
        let result: T;
        try {
          result = await fn(ep);
        } catch (e) {
          if (!isTokenError(e) || this.config.user === undefined) throw e;
          await this.#authenticate(ep, signal); // the token expired: once more with a new one
          result = await fn(ep);
        }
        this.#preferred = index;
        return result;
      } catch (e) {
        if (!(e instanceof Unreachable)) throw e;
        problems.push(e.message);
      }
    }
    throw new Unreachable(`no etcd host answered: ${problems.join("; ")}`);
  }

  /**
   * One unary call, e.g. `call("/kv/range", {...})`. Throws
   * {@linkcode EtcdError} for an error from etcd, and an error named
   * `Unreachable` when no host answered. `sameHost` asks only the host
   * that answered last (a liveness probe of that connection).
   */
  call<T>(method: string, body: unknown, signal?: AbortSignal, options: { sameHost?: boolean } = {}): Promise<T> {
    return this.#failover((ep) => this.#unaryOnce<T>(ep, method, body, signal), signal, options.sameHost);
  }

  /**
   * Opens a streaming call (`/watch`): the Response once its headers came
   * (within `connect_timeout`), with no overall limit. `signal` ends it.
   */
  stream(method: string, body: unknown, signal: AbortSignal): Promise<Response> {
    return this.#failover(async (ep) => {
      const { res, done } = await this.#send(ep, method, body, signal, true);
      done();
      if (res.status !== 200) {
        const text = await res.text().catch(() => "");
        throw unreachableIfUnavailable(ep, etcdErrorOf(res.status, text) ?? new Unreachable(`HTTP ${res.status}`));
      }
      return res;
    }, signal);
  }

  /** Every key under `prefix` as one snapshot, a page at a time. */
  async rangePrefix(prefix: string, signal?: AbortSignal): Promise<{ kvs: RawKv[]; revision: number }> {
    const end = prefixRangeEnd(prefix);
    const kvs: RawKv[] = [];
    let key = b64(prefix);
    let revision: string | undefined;
    for (;;) {
      const r = await this.call<{ header?: ResponseHeader; kvs?: RawKv[]; more?: boolean }>("/kv/range", {
        key,
        range_end: end,
        limit: PAGE_SIZE,
        ...(revision ? { revision } : {}),
      }, signal);
      revision ??= r.header?.revision ?? "0";
      const page = r.kvs ?? [];
      kvs.push(...page);
      if (!r.more || page.length === 0) break;
      key = b64(new Uint8Array([...unb64(page[page.length - 1]!.key), 0]));
    }
    return { kvs, revision: Number(revision ?? 0) };
  }
}

const PAGE_SIZE = 256;
