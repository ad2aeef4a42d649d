/** Light or dark: the system's choice until the user picks one (kept in localStorage). */
const saved = localStorage.getItem("pingap-admin-theme");
let theme = saved === "dark" || saved === "light"
  ? saved
  : (globalThis.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light");
document.documentElement.dataset.theme = theme;

/** `light` or `dark`. */
export function currentTheme() {
  return theme;
}

/** Flips the theme. */
export function toggleTheme() {
  theme = theme === "dark" ? "light" : "dark";
  localStorage.setItem("pingap-admin-theme", theme);
  document.documentElement.dataset.theme = theme;
}
