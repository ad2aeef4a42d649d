/**
 * The dashboard: process facts (`api/basic`), and the topology servers → locations → upstream → backends with
 * health and request rates (`api/status`, read every 3 s: a rate is the change between two reads).
 */
import { html, useEffect, useState } from "./lib.js";
import { AuthError, call } from "./api.js";
import { t } from "./i18n.js";

const FACTS = [
  "version",
  "hostname",
  "pid",
  "uptime",
  "memory",
  "threads",
  "cpus",
  "deno_version",
  "config_hash",
  "processing",
  "accepted",
];

function fmtRate(r) {
  return r === null || r === undefined ? "–" : String(r);
}

function Backend({ b }) {
  const state = b.healthy === true ? "healthy" : b.healthy === false ? "unhealthy" : "unchecked";
  return html`<li class=${`backend ${state}`}><span class="dot"></span>${b.addr} <small>${t(state)}</small></li>`;
}

/** The dashboard page. */
export function Dashboard({ config, onAuthError }) {
  const [basic, setBasic] = useState(null);
  const [status, setStatus] = useState(null);
  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const [b, s] = await Promise.all([call("GET", "/basic"), call("GET", "/status")]);
        if (!stop) {
          setBasic(b.data);
          setStatus(s.data);
        }
      } catch (e) {
        if (e instanceof AuthError) onAuthError();
      }
    };
    load();
    const timer = setInterval(load, 3000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, []);
  if (!basic || !status) return html`<p class="muted">…</p>`;
  const upstreams = Object.fromEntries((status.upstreams ?? []).map((u) => [u.name, u]));
  const facts = FACTS.filter((k) => basic[k] !== undefined && basic[k] !== "").map((k) => [k, basic[k]]);
  if (config.basic?.name) facts.unshift(["name", config.basic.name]);
  return html`
    <div class="dashboard">
      <section class="card">
        <h2>${t("process")}</h2>
        <dl class="facts">${facts.map(([k, v]) =>
          html`
            <dt>${k}</dt>
            <dd data-fact=${k}>${String(v)}</dd>
          `
        )}
            <dt>${t("rate")}</dt><dd data-fact="rate">${fmtRate(status.rate)}</dd></dl>
      </section>
      <section class="card"><h2>${t("topology")}</h2>
          ${(status.servers ?? []).map((s) =>
            html`
              <div class="server" data-server=${s.name}>
                <h3><a href=${`#/edit/servers/${encodeURIComponent(s.name)}`}>${s.name}</a> <small>${s.addrs.join(
                  ", ",
                )}</small>
                        <span class="num">${fmtRate(s.rate)} ${t("rate")} · ${s.accepted} ${t("accepted")} · ${s
                          .processing} ${t("processing")}</span></h3>
                <ul>${s.locations.map((l) => {
                  const upstream = config.locations?.[l.name]?.upstream;
                  const u = upstream ? upstreams[upstream] : undefined;
                  return html`<li class="location" data-location=${l.name}>
            <a href=${`#/edit/locations/${encodeURIComponent(l.name)}`}>${l.name}</a>
            <code>${config.locations?.[l.name]?.path ?? ""}</code>
            ${
                    upstream
                      ? html`
                        → <a href=${`#/edit/upstreams/${encodeURIComponent(upstream)}`}>${upstream}</a>
                      `
                      : ""
                  }
            <span class="num">${fmtRate(l.rate)} ${t("rate")} · ${l.accepted} ${t("accepted")}</span>
            ${u ? html`<ul class="backends">${u.backends.map((b) => html`<${Backend} b=${b} />`)}</ul>` : ""}
          </li>`;
                })}</ul>
              </div>
            `
          )}
        </section>
    </div>
  `;
}
