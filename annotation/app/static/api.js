// The browser side of the API contract (annotation/app/API.md): fetch with the CSRF header, JSON errors as
// messages people can act on, idempotent creates retried with the SAME id after a network failure.

export class ApiError extends Error {
  constructor(message, status = 0, field = null) {
    super(message);
    this.name = "ApiError";
    this.status = status; // 0 = the server could not be reached
    this.field = field; // the form field the server blames, when it says
  }
}

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

// crypto.randomUUID exists only in secure contexts (https or localhost); getRandomValues exists everywhere.
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const RETRY_STATUSES = new Set([502, 503, 504]);

async function errorFrom(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  let field = null;
  const text = await response.text().catch(() => "");
  try {
    const data = JSON.parse(text);
    if (data && typeof data.error === "string") message = data.error;
    else if (data && typeof data.detail === "string") message = data.detail;
    else if (data && Array.isArray(data.detail)) {
      message = data.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
    }
    if (data && typeof data.field === "string") field = data.field;
  } catch {
    if (text && text.length < 300) message = text;
  }
  return new ApiError(message, response.status, field);
}

/**
 * Call the API. `json` or `form` is the body. `retry`: the request is idempotent (it carries a client-made id),
 * so a network failure or a 502/503/504 is retried with exactly the same body, with backoff.
 * 401 on a page other than login/setup sends the browser to the login page (unless `noRedirect`).
 */
export async function api(method, path, { json, form, retry = false, noRedirect = false } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (method !== "GET" && method !== "HEAD") {
    const token = cookie("pixmo_csrf");
    if (token) headers["X-CSRF-Token"] = token;
  }
  const attempts = retry ? 5 : 1;
  for (let attempt = 1; ; attempt++) {
    let response;
    try {
      response = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch (error) {
      if (attempt < attempts) {
        await sleep(400 * 2 ** attempt);
        continue;
      }
      throw new ApiError(
        `Could not reach the server (${error.message}). Nothing on this page was lost: try again.`,
        0,
      );
    }
    if (RETRY_STATUSES.has(response.status) && attempt < attempts) {
      await sleep(400 * 2 ** attempt);
      continue;
    }
    if (response.status === 401 && !noRedirect) {
      const next = encodeURIComponent(location.pathname + location.search);
      location.assign(`/login?next=${next}`);
      throw await errorFrom(response);
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return null;
    const type = response.headers.get("Content-Type") || "";
    return type.includes("application/json") ? response.json() : response.text();
  }
}

/** The logged-in user ({username, role}), or a redirect to the login page. */
export async function currentUser() {
  return api("GET", "/api/me");
}
