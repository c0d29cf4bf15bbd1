// DOM helpers. Text always goes in through textContent (never innerHTML): labels, questions and model drafts
// are shown as text, whatever characters they hold.

import { api } from "./api.js";

/** el("button", {class: "primary", onclick: f, type: "button"}, "Save") -> element. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

/** Show a message in a status area (role=status/alert set in the HTML); kind: "error" | "ok" | "info". */
export function say(node, text, kind = "info") {
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = !text;
}

export function sayError(node, error) {
  say(node, error && error.message ? error.message : String(error), "error");
}

/** Disable a button while an async action runs; re-enable after. Returns the action's result. */
export async function busy(button, action) {
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    button.disabled = wasDisabled;
    button.removeAttribute("aria-busy");
  }
}

/** Fill the page header with who is logged in and a logout button. */
export function header(user) {
  const slot = document.getElementById("user");
  if (!slot) return;
  clear(slot);
  const logout = el("button", { type: "button", class: "link" }, "Log out");
  logout.addEventListener("click", async () => {
    if (unsaved.any() && !confirm("You have unsaved work on this page. Log out anyway?")) return;
    unsaved.reset();
    try {
      await api("POST", "/api/logout", { noRedirect: true });
    } finally {
      location.assign("/login");
    }
  });
  const links = [];
  if (user.role === "admin") links.push(el("a", { href: "/admin" }, "Admin"));
  links.push(el("a", { href: "/tasks" }, "My tasks"));
  slot.append(...links, el("span", { class: "who" }, `${user.username} (${user.role})`), logout);
}

/** Unsaved-work registry: pages mark keys dirty; leaving the page with any dirty key asks first. */
export const unsaved = {
  keys: new Set(),
  set(key, dirty) {
    if (dirty) this.keys.add(key);
    else this.keys.delete(key);
  },
  any() {
    return this.keys.size > 0;
  },
  reset() {
    this.keys.clear();
  },
};

window.addEventListener("beforeunload", (event) => {
  if (!unsaved.any()) return;
  event.preventDefault();
  event.returnValue = ""; // older browsers need a value to show the prompt
});

export function formatSeconds(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function taskTypeName(type) {
  return { cap: "Cap recording", points: "Points", ama: "Ask model anything", verify: "Count verification" }[type] || type;
}
