import { api } from "./api.js";
import { busy, say, sayError } from "./dom.js";

const form = document.getElementById("setup");
const message = document.getElementById("message");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username) {
    say(message, "Choose a user name.", "error");
    form.username.focus();
    return;
  }
  if (password.length < 8) {
    say(message, "The password needs at least 8 characters.", "error");
    form.password.focus();
    return;
  }
  if (password !== form.password2.value) {
    say(message, "The two passwords differ.", "error");
    form.password2.select();
    return;
  }
  say(message, "");
  try {
    await busy(form.querySelector("button[type=submit]"), () =>
      api("POST", "/api/setup", { json: { username, password }, noRedirect: true }),
    );
    location.assign("/admin");
  } catch (error) {
    sayError(message, error);
    if (error.status === 409 || error.status === 403) {
      say(message, `${error.message} — log in on the login page instead.`, "error");
    }
  }
});
