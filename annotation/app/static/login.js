import { api } from "./api.js";
import { busy, say, sayError } from "./dom.js";

const form = document.getElementById("login");
const message = document.getElementById("message");

// Only same-site paths are followed after login (an open redirect would send people elsewhere).
function nextPath(role) {
  const next = new URLSearchParams(location.search).get("next") || "";
  if (next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login")) return next;
  return role === "admin" ? "/admin" : "/tasks";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    say(message, "Enter your user name and password.", "error");
    (username ? form.password : form.username).focus();
    return;
  }
  say(message, "");
  try {
    const user = await busy(form.querySelector("button[type=submit]"), () =>
      api("POST", "/api/login", { json: { username, password }, noRedirect: true }),
    );
    location.assign(nextPath(user.role));
  } catch (error) {
    sayError(message, error);
    form.password.select();
  }
});
