import { api, currentUser } from "./api.js";
import { clear, el, header, sayError, taskTypeName } from "./dom.js";

const body = document.getElementById("tasks");
const message = document.getElementById("message");
const showDone = document.getElementById("show-done");
const next = document.getElementById("next");
const empty = document.getElementById("empty");
let tasks = [];

const isDone = (task) => task.status === "done" || task.status === "completed" || task.status === "complete";

function render() {
  clear(body);
  const shown = tasks.filter((t) => showDone.checked || !isDone(t));
  for (const task of shown) {
    const href = `/task/${encodeURIComponent(task.task_id)}`;
    body.append(
      el(
        "tr",
        { dataset: { taskId: task.task_id } },
        el("td", {}, el("img", { src: `/api/images/${encodeURIComponent(task.image_id)}`, alt: "", width: 64, height: 48, loading: "lazy", style: { objectFit: "cover" } })),
        el("td", {}, taskTypeName(task.task_type)),
        el("td", {}, task.batch ?? ""),
        el("td", {}, el("span", { class: `badge ${isDone(task) ? "done" : ""}` }, task.status)),
        el("td", {}, el("a", { href, "aria-label": `Open ${taskTypeName(task.task_type)} task ${task.task_id}` }, "Open")),
      ),
    );
  }
  empty.hidden = shown.length > 0;
  const first = tasks.find((t) => !isDone(t));
  next.hidden = !first;
  if (first) next.href = `/task/${encodeURIComponent(first.task_id)}`;
}

showDone.addEventListener("change", render);

try {
  header(await currentUser());
  tasks = await api("GET", "/api/tasks");
  render();
} catch (error) {
  sayError(message, error);
}
