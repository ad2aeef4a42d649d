/**
 * Trailers travel beside a `Response`, since `Response` has no place for
 * them: the pipeline records the upstream's trailers here, and a listener
 * that can send trailers (the HTTP/2 one) reads them.
 *
 * @module
 */

/** Trailers of a response, when its upstream sent (or will send) some. */
export const responseTrailers: WeakMap<Response, Promise<Headers>> = new WeakMap();
