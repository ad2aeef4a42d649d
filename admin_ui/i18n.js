/** English and Chinese: two small dictionaries, a key each; the choice is kept in localStorage. */
const en = {
  title: "Pingap admin",
  user: "User",
  password: "Password",
  login: "Log in",
  logout: "Log out",
  loginFailed: "Wrong user or password (or too many failures)",
  dashboard: "Dashboard",
  servers: "Servers",
  locations: "Locations",
  upstreams: "Upstreams",
  plugins: "Plugins",
  certificates: "Certificates",
  storages: "Storages",
  basic: "Basic",
  toml: "TOML",
  process: "Process",
  topology: "Topology",
  processing: "In flight",
  accepted: "Accepted",
  rate: "Requests/s",
  error_rate: "5xx/s",
  server_errors: "5xx",
  healthy: "healthy",
  unhealthy: "unhealthy",
  unchecked: "not checked",
  add: "Add",
  edit: "Edit",
  name: "Name",
  save: "Save",
  saved: "Saved and applied",
  delete: "Delete",
  reallyDelete: "Really delete?",
  deleted: "Deleted",
  history: "History",
  restore: "Restore",
  restored: "Restored and applied",
  errors: "Errors: fix them to save",
  checking: "Checking…",
  valid: "The compiler accepts this change",
  willChange: "What will change",
  noChange: "Nothing in the running plan changes",
  category: "Category",
  all: "All",
  empty: "None yet",
  import: "Import",
  check: "Check",
  imported: "Imported and applied",
  deletedVersion: "(deleted)",
  current: "current",
  language: "中文",
  dark: "Dark",
  light: "Light",
  by: "by",
  unset: "(default)",
  example: "e.g.",
  otherErrors: "Elsewhere in the config",
  onePerLine: "one per line",
  expires: "Expires",
  back: "Back",
  notFound: "Not found",
};

/** The Chinese dictionary: the same keys. */
const zh = {
  title: "Pingap 管理",
  user: "用户名",
  password: "密码",
  login: "登录",
  logout: "退出",
  loginFailed: "用户名或密码错误（或失败次数过多）",
  dashboard: "概览",
  servers: "服务",
  locations: "路由",
  upstreams: "上游",
  plugins: "插件",
  certificates: "证书",
  storages: "存储",
  basic: "基础配置",
  toml: "TOML",
  process: "进程",
  topology: "拓扑",
  processing: "处理中",
  accepted: "已接收",
  rate: "每秒请求",
  error_rate: "每秒 5xx",
  server_errors: "5xx 错误",
  healthy: "健康",
  unhealthy: "不健康",
  unchecked: "未检查",
  add: "新增",
  edit: "编辑",
  name: "名称",
  save: "保存",
  saved: "已保存并生效",
  delete: "删除",
  reallyDelete: "确认删除？",
  deleted: "已删除",
  history: "历史",
  restore: "恢复",
  restored: "已恢复并生效",
  errors: "有错误：修正后才能保存",
  checking: "检查中…",
  valid: "编译器接受此修改",
  willChange: "将要变更",
  noChange: "运行中的配置没有变化",
  category: "类型",
  all: "全部",
  empty: "暂无",
  import: "导入",
  check: "检查",
  imported: "已导入并生效",
  deletedVersion: "（已删除）",
  current: "当前",
  language: "English",
  dark: "暗色",
  light: "亮色",
  by: "由",
  unset: "（默认）",
  example: "例如",
  otherErrors: "配置中其他位置",
  onePerLine: "每行一项",
  expires: "到期",
  back: "返回",
  notFound: "未找到",
};

/** Both dictionaries, by language. */
export const DICTS = { en, zh };
let lang = globalThis.localStorage?.getItem("pingap-admin-lang") === "zh" ? "zh" : "en";
if (globalThis.document) document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";

/** The language in use: `en` or `zh`. */
export function language() {
  return lang;
}

/** Switches the language (the caller re-renders). */
export function setLanguage(next) {
  lang = next === "zh" ? "zh" : "en";
  localStorage.setItem("pingap-admin-lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

/** The text of `key` in the language in use. */
export function t(key) {
  return DICTS[lang][key] ?? en[key] ?? key;
}
