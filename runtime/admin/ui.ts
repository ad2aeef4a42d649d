/**
 * The admin UI's files, served without authentication (the login page must
 * load before the user logs in). Until the web UI is built, `/` is a page
 * that says where the API is; any other file is 404.
 *
 * @module
 */

const INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pingap admin</title></head>
<body><h1>Pingap admin</h1><p>The web UI is not part of this build. The JSON API is at <code>api/</code>
(see docs/admin.md); <code>api/schema</code> describes every config key.</p></body></html>
`;

/** The file at `path` (below the mount), or a 404. */
export function uiAsset(path: string, _mount: string): Response {
  if (path === "/" || path === "/index.html") {
    return new Response(INDEX, {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
    });
  }
  return new Response("Not Found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
}
