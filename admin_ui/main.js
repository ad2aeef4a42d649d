/** The admin UI's entry: renders the app into the page. */
import { html, render } from "./lib.js";
import { App } from "./app.js";

render(html`<${App} />`, document.getElementById("app"));
