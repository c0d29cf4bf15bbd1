// Admin page: users, images, batches, Count verification tasks, progress and export.

import { api, currentUser } from "./api.js";
import { busy, clear, el, header, say, sayError, unsaved } from "./dom.js";

const $ = (id) => document.getElementById(id);
const message = $("message");
let users = [];
let images = [];

const listOf = (data, key) => (Array.isArray(data) ? data : (data && data[key]) || []);

function renderUsers() {
  const body = clear($("users"));
  for (const u of users) body.append(el("tr", {}, el("td", {}, u.username), el("td", {}, u.role)));
  const annotators = users.filter((u) => u.role === "annotator");
  for (const id of ["batch-annotators", "verify-annotators"]) {
    const box = $(id);
    const checked = new Set(Array.from(box.querySelectorAll("input:checked"), (i) => i.value));
    clear(box);
    if (!annotators.length) box.append(el("p", { class: "hint" }, "No annotators yet: create one above."));
    for (const u of annotators) {
      box.append(el("label", { class: "inline" },
        el("input", { type: "checkbox", name: "annotators", value: u.username, checked: checked.has(u.username) }), u.username));
    }
  }
}

function renderImages() {
  $("image-count").textContent = String(images.length);
  const grid = $("batch-images");
  const checked = new Set(Array.from(grid.querySelectorAll("input:checked"), (i) => i.value));
  clear(grid);
  if (!images.length) grid.append(el("p", { class: "hint" }, "No images yet: upload some above."));
  for (const image of images) {
    const id = String(image.image_id);
    grid.append(
      el("label", { class: "thumb", title: image.filename || id },
        el("img", { src: `/api/images/${encodeURIComponent(id)}`, alt: "", loading: "lazy" }),
        el("span", {}, el("input", { type: "checkbox", name: "images", value: id, checked: checked.has(id) }), " ", image.filename || id),
        image.width ? el("span", { class: "muted" }, `${image.width}×${image.height}`) : null),
    );
  }
  countSelected();
}

function countSelected() {
  $("selected-count").textContent = String($("batch-images").querySelectorAll("input:checked").length);
}

async function loadUsers() {
  users = listOf(await api("GET", "/api/admin/users"), "users");
  renderUsers();
}

async function loadImages() {
  images = listOf(await api("GET", "/api/admin/images"), "images");
  renderImages();
}

// Progress comes as nested JSON; each list of objects becomes a table, nested objects become "key: value" text.
function cell(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(cell).join(", ");
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}: ${cell(v)}`).join(", ");
  return String(value);
}

function table(rows) {
  const columns = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const numeric = new Set(columns.filter((c) => rows.every((r) => r[c] === undefined || typeof r[c] === "number")));
  return el("div", { class: "table-wrap" }, el("table", {},
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: numeric.has(c) ? "num" : "" }, c.replaceAll("_", " "))))),
    el("tbody", {}, rows.map((r) => el("tr", {}, columns.map((c) => el("td", { class: numeric.has(c) ? "num" : "" }, cell(r[c]))))))));
}

function renderProgress(data) {
  const box = clear($("progress"));
  const sections = Array.isArray(data) ? [["", data]] : Object.entries(data || {});
  let shown = 0;
  for (const [name, value] of sections) {
    if (name) box.append(el("h3", {}, name.replaceAll("_", " ")));
    if (Array.isArray(value) && value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
      box.append(value.length ? table(value) : el("p", { class: "hint" }, "Nothing yet."));
    } else if (value && typeof value === "object" && !Array.isArray(value)) {
      const rows = Object.entries(value).map(([key, v]) => (v && typeof v === "object" && !Array.isArray(v) ? { name: key, ...v } : { name: key, value: v }));
      box.append(rows.length ? table(rows) : el("p", { class: "hint" }, "Nothing yet."));
    } else {
      box.append(el("p", {}, cell(value)));
    }
    shown++;
  }
  if (!shown) box.append(el("p", { class: "hint" }, "No batches yet."));
}

async function loadProgress() {
  renderProgress(await api("GET", "/api/admin/progress"));
}

$("user-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const status = $("user-status");
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || password.length < 8) {
    say(status, !username ? "Choose a user name." : "The password needs at least 8 characters.", "error");
    (username ? form.password : form.username).focus();
    return;
  }
  try {
    const user = await busy($("create-user"), () => api("POST", "/api/admin/users", { json: { username, password, role: form.role.value } }));
    say(status, `Created ${user.role} “${user.username}”.`, "ok");
    form.reset();
    unsaved.set("user-form", false);
    await loadUsers();
  } catch (error) {
    sayError(status, error);
  }
});

$("image-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("image-files");
  const status = $("image-status");
  const rejected = clear($("image-rejected"));
  if (!input.files.length) {
    say(status, "Choose one or more image files first.", "error");
    input.focus();
    return;
  }
  const form = new FormData();
  for (const file of input.files) form.append("files", file, file.name);
  say(status, `Uploading ${input.files.length} file(s)…`, "info");
  try {
    const result = await busy($("upload-images"), () => api("POST", "/api/admin/images", { form }));
    const added = result.images || [];
    const bad = result.rejected || [];
    say(status, `Added ${added.length} image(s)${bad.length ? `; ${bad.length} rejected` : ""}.`, bad.length ? "error" : "ok");
    for (const r of bad) rejected.append(el("li", {}, el("strong", {}, r.filename), `: ${r.error}`));
    input.value = "";
    await loadImages();
    // Newly uploaded images are selected for the next batch.
    for (const image of added) {
      const box = $("batch-images").querySelector(`input[value="${CSS.escape(String(image.image_id))}"]`);
      if (box) box.checked = true;
    }
    countSelected();
  } catch (error) {
    sayError(status, error);
  }
});

$("batch-images").addEventListener("change", countSelected);
$("select-all").addEventListener("click", () => {
  for (const box of $("batch-images").querySelectorAll("input")) box.checked = true;
  countSelected();
});
$("select-none").addEventListener("click", () => {
  for (const box of $("batch-images").querySelectorAll("input")) box.checked = false;
  countSelected();
});

$("batch-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const status = $("batch-status");
  const name = form.name.value.trim();
  const imageIds = Array.from($("batch-images").querySelectorAll("input:checked"), (i) => i.value);
  const annotators = Array.from($("batch-annotators").querySelectorAll("input:checked"), (i) => i.value);
  const perImageValue = Number(form.annotators_per_image.value || 1);
  const problem = !name ? "Name the batch." : !imageIds.length ? "Select at least one image." : !annotators.length ? "Select at least one annotator."
    : !(Number.isInteger(perImageValue) && perImageValue >= 1 && perImageValue <= annotators.length) ? `Annotators per image must be 1–${annotators.length} (the annotators chosen).` : "";
  if (problem) {
    say(status, problem, "error");
    return;
  }
  // Image ids go back as the server gave them (numbers stay numbers).
  const byId = new Map(images.map((i) => [String(i.image_id), i.image_id]));
  const body = {
    name,
    task_type: form.task_type.value,
    image_ids: imageIds.map((id) => byId.get(id) ?? id),
    annotators,
    annotators_per_image: perImageValue,
  };
  try {
    const result = await busy($("create-batch"), () => api("POST", "/api/admin/batches", { json: body }));
    say(status, `Created batch “${name}” (${result.batch_id}) with ${result.tasks} task(s).`, "ok");
    form.name.value = "";
    unsaved.set("batch-form", false);
    await loadProgress();
  } catch (error) {
    sayError(status, error);
  }
});

$("verify-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const verifyForm = event.currentTarget;
  const status = $("verify-status");
  const file = $("verify-file").files[0];
  if (!file) {
    say(status, "Choose the verification_tasks.jsonl file.", "error");
    return;
  }
  const annotators = Array.from($("verify-annotators").querySelectorAll("input:checked"), (i) => i.value);
  if (!annotators.length) {
    say(status, "Select at least one annotator.", "error");
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  for (const name of annotators) form.append("annotators", name);
  for (const image of $("verify-images").files) form.append("files", image, image.name);
  try {
    const result = await busy($("upload-verify"), () => api("POST", "/api/admin/verification-tasks", { form }));
    say(status, `Done: ${cell(result)}`, "ok");
    verifyForm.reset();
    await loadProgress();
  } catch (error) {
    sayError(status, error);
  }
});

$("refresh-progress").addEventListener("click", () => loadProgress().catch((error) => sayError(message, error)));

$("export-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = $("export-status");
  const out = $("export-dir").value.trim();
  const box = clear($("export-result"));
  say(status, "Exporting…", "info");
  try {
    const result = await busy($("export"), () => api("POST", "/api/admin/export", { json: out ? { out_dir: out } : {} }));
    say(status, "Export written.", "ok");
    const counts = Object.entries(result.counts || {});
    box.append(
      el("p", {}, "Folder: ", el("code", { class: "path", id: "export-path" }, result.export_dir)),
      el("div", { class: "table-wrap" }, el("table", { id: "export-counts" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "File"), el("th", { scope: "col", class: "num" }, "Records"))),
        el("tbody", {}, counts.map(([file, n]) => el("tr", {}, el("td", {}, file), el("td", { class: "num" }, cell(n))))))),
    );
  } catch (error) {
    sayError(status, error);
  }
});

// Typed but not yet created users/batches are work too.
for (const id of ["user-form", "batch-form"]) {
  $(id).addEventListener("input", (event) => {
    const form = event.currentTarget;
    const typed = Array.from(form.querySelectorAll("input[type=text], input[type=password]")).some((i) => i.value.trim());
    unsaved.set(id, typed);
  });
}

try {
  const me = await currentUser();
  header(me);
  if (me.role !== "admin") {
    say(message, "This page is for administrators. Your tasks are on the “My tasks” page.", "error");
  } else {
    await Promise.all([loadUsers(), loadImages(), loadProgress()]);
  }
} catch (error) {
  sayError(message, error);
}
