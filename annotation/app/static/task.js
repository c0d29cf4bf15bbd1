// One task page: loads the task, then hands it to the module of its type.
import { api, currentUser } from "./api.js";
import { busy, header, say, sayError, taskTypeName, unsaved } from "./dom.js";

const message = document.getElementById("message");
const title = document.getElementById("title");
const statusBadge = document.getElementById("task-status");
const completeButton = document.getElementById("complete");
const imagePane = document.getElementById("image-pane");
const workPane = document.getElementById("work-pane");

const MODULES = { points: "./points.js", cap: "./recording.js", ama: "./ama.js", verify: "./verify.js" };

function taskIdFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] || "");
}

function showStatus(status) {
  statusBadge.textContent = status;
  statusBadge.className = `badge ${status === "done" || status === "completed" ? "done" : ""}`;
}

async function main() {
  header(await currentUser());
  const taskId = taskIdFromPath();
  const task = await api("GET", `/api/tasks/${encodeURIComponent(taskId)}`);
  title.textContent = taskTypeName(task.task_type);
  document.title = `${taskTypeName(task.task_type)} · PixMo annotation`;
  showStatus(task.status);
  const path = MODULES[task.task_type];
  if (!path) throw new Error(`This page cannot show tasks of type "${task.task_type}".`);
  const module = await import(path);
  const context = {
    task,
    taskId,
    imagePane,
    workPane,
    message,
    // Pages call this after each save so the finish button reflects whether the task has work in it.
    setCanComplete(can) {
      completeButton.disabled = !can;
    },
  };
  completeButton.hidden = false;
  completeButton.disabled = !(task.annotations && task.annotations.length);
  await module.mount(context);

  completeButton.addEventListener("click", async () => {
    if (unsaved.any() && !confirm("This page has work that is not saved yet. Finish the task anyway?")) return;
    try {
      await busy(completeButton, () => api("POST", `/api/tasks/${encodeURIComponent(taskId)}/complete`, { json: {}, retry: true }));
      unsaved.reset();
      showStatus("done");
      say(message, "Task finished. Back to your task list…", "ok");
      location.assign("/tasks");
    } catch (error) {
      sayError(message, error);
    }
  });
}

main().catch((error) => {
  sayError(message, error);
  workPane.hidden = true;
});
