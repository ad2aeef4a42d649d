/**
 * The dashboard: process facts (`api/basic`), and the topology servers → locations → upstream → backends with
 * health, request and 5xx error rates (`api/status`, read every 3 s: a rate is the change between two reads).
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

function Location({ l, config, upstreams }) {
  const item = config.locations?.[l.name] ?? {};
  const u = item.upstream ? upstreams[item.upstream] : undefined;
  const to = item.upstream
    ? html`<span class="arrow">→</span><a href=${`#/edit/upstreams/${
      encodeURIComponent(item.upstream)
    }`}>${item.upstream}</a>`
    : "";
  const backends = u ? html`<ul class="backends">${u.backends.map((b) => html`<${Backend} b=${b} />`)}</ul>` : "";
  return html`<li class="location" data-location=${l.name}>
    <a href=${`#/edit/locations/${encodeURIComponent(l.name)}`}>${l.name}</a> <code>${item.path ?? ""}</code>${to}
    <span class="num">${fmtRate(l.rate)} ${t("rate")} · ${l.accepted} ${t("accepted")} · ${fmtRate(l.error_rate)} ${
    t("error_rate")
  } · ${l.errors ?? 0} ${t("server_errors")}</span>${backends}
  </li>`;
}

function Server({ s, config, upstreams }) {
  const numbers = `${fmtRate(s.rate)} ${t("rate")} · ${s.accepted} ${t("accepted")} · ${fmtRate(s.error_rate)} ${
    t("error_rate")
  } · ${s.errors ?? 0} ${t("server_errors")} · ${s.processing} ${t("processing")}`;
  return html`
    <div class="server" data-server=${s.name}>
      <h3><a href=${`#/edit/servers/${encodeURIComponent(s.name)}`}>${s.name}</a> <small>${s.addrs.join(", ")}</small>
          <span class="num">${numbers}</span></h3>
      <ul>${s.locations.map((l) => html`<${Location} l=${l} config=${config} upstreams=${upstreams} />`)}</ul>
    </div>
  `;
}

function Upstream({ u }) {
  return html`
    <div class="upstream" data-upstream=${u.name}>
      <a href=${`#/edit/upstreams/${encodeURIComponent(u.name)}`}>${u.name}</a>
      <span class="num">${u.processing ?? 0} ${t("processing")}</span>
      <ul class="backends">${u.backends.map((b) => html`<${Backend} b=${b} />`)}</ul>
    </div>
  `;
}

/** Reload (`api/restart`): a second click confirms; a read-only login has no button. */
function ReloadButton({ notify }) {
  const [confirm, setConfirm] = useState(false);
  async function click() {
    if (!confirm) return setConfirm(true);
    setConfirm(false);
    const { status, data } = await call("POST", "/restart");
    notify(status === 204 ? t("reloaded") : data?.message ?? String(data));
  }
  return html`
    <button type="button" id="reload" class=${confirm ? "danger" : ""} onClick=${click}
      onBlur=${() => setConfirm(false)}>${confirm ? t("reallyReload") : t("reload")}</button>
  `;
}

/** The dashboard page. */
export function Dashboard({ config, readonly, notify, onAuthError }) {
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
  facts.push([t("rate"), fmtRate(status.rate), "rate"]);
  const factList = facts.map(([k, v, id = k]) =>
    html`
      <div class="fact">
        <dt>${k}</dt>
        <dd data-fact=${id}>${String(v)}</dd>
      </div>
    `
  );
  const servers = (status.servers ?? []).map((s) => html`<${Server} s=${s} config=${config} upstreams=${upstreams} />`);
  return html`
    <div class="dashboard">
      <section class="card">
        <h2 class="with-action">${t("process")} ${readonly ? "" : html`<${ReloadButton} notify=${notify} />`}</h2>
        <dl class="facts">${factList}</dl>
      </section>
      <section class="card"><h2>${t("topology")}</h2>${servers}</section>
      <section class="card"><h2>${t("upstreams")}</h2>${(status.upstreams ?? []).map((u) =>
        html`<${Upstream} u=${u} />`
      )}</section>
    </div>
  `;
}
