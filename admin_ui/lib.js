/** The UI library, in one place: preact with htm's tagged templates (no JSX, no compile step of our own). */
import { h, render } from "preact";
import htm from "htm";
export { render };
export { useEffect, useMemo, useRef, useState } from "preact/hooks";

/** `html\`<div>${x}</div>\`` builds preact elements. */
export const html = htm.bind(h);
