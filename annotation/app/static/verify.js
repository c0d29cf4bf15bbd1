// Verification task: a Count row (label, count, a point per object) drawn on its image; the annotator confirms
// it or fixes it (edits the points; the count follows the points unless typed in).

import { api, uuid } from "./api.js";
import { busy, clear, el, say, sayError, unsaved } from "./dom.js";
import { PointImage, renderPointList } from "./pointer.js";

/** Count rows store points as {x: [...], y: [...]} (pixmo-count) or [{x, y}]; both become [{x, y}]. */
export function rowPoints(points) {
  if (!points) return [];
  if (Array.isArray(points)) return points.map((p) => ({ x: Number(p.x), y: Number(p.y) }));
  const xs = points.x || [];
  const ys = points.y || [];
  return xs.map((x, i) => ({ x: Number(x), y: Number(ys[i]) }));
}

export async function mount({ task, taskId, imagePane, workPane, setCanComplete }) {
  const row = task.count_row || {};
  const original = rowPoints(row.points);
  const originalCount = Number(row.count ?? original.length);
  let fixing = false;
  let countTyped = false;
  let pending = null;

  const image = new PointImage(imagePane, {
    src: task.image.url,
    alt: `The image of the Count row: ${row.label || ""}`,
    editable: true,
    onChange: (points) => {
      renderPointList(list, points, fixing ? (i) => image.remove(i) : null);
      if (fixing && !countTyped) countInput.value = String(points.length);
      pointsLabel.textContent = String(points.length);
      if (fixing) unsaved.set("verify", true);
    },
  });
  image.editable = false; // read-only until "Fix"
  image.stage.classList.remove("editable");

  const countInput = el("input", { type: "number", id: "count", min: 0, max: 1000, step: 1, disabled: true });
  countInput.value = String(originalCount);
  const pointsLabel = el("span", { id: "n-points" });
  const list = el("ol", { class: "points-list", id: "points", "aria-label": "Points of the row" });
  const correct = el("button", { type: "button", class: "primary", id: "correct" }, "Correct");
  const fix = el("button", { type: "button", id: "fix" }, "Fix…");
  const undo = el("button", { type: "button", id: "undo", hidden: true }, "Undo last point");
  const clearAll = el("button", { type: "button", id: "clear", hidden: true }, "Clear points");
  const reset = el("button", { type: "button", id: "reset", hidden: true }, "Back to the original");
  const saveFix = el("button", { type: "button", class: "primary", id: "save-fix", hidden: true }, "Save the fix");
  const status = el("div", { class: "status", role: "status", hidden: true });
  const verdict = el("p", { id: "verdict", "aria-live": "polite" });
  const help = el("p", { class: "hint", hidden: true, id: "fix-help" }, "Click each object that is missing a point; undo or remove wrong points. ",
    "The count follows the points unless you type it.");

  clear(workPane).append(
    el("h2", {}, "Is this count right?"),
    el("dl", { class: "facts" },
      el("dt", {}, "What is counted"), el("dd", { id: "row-label" }, row.label || "(no label)"),
      el("dt", {}, "Count in the row"), el("dd", { id: "row-count" }, String(originalCount))),
    el("p", {}, "Check that there is exactly one point on every ", el("strong", {}, row.label || "object"),
      " in the image and none elsewhere."),
    el("div", { class: "row" }, correct, fix),
    help,
    el("div", { class: "row" }, el("label", { for: "count", style: { margin: 0 } }, "Count"), countInput,
      el("span", { class: "muted" }, "points: "), pointsLabel),
    list,
    el("div", { class: "row" }, undo, clearAll, reset),
    el("div", { class: "row" }, saveFix),
    status,
    verdict,
  );

  function startFix() {
    fixing = true;
    image.editable = true;
    image.stage.classList.add("editable");
    countInput.disabled = false;
    for (const b of [undo, clearAll, reset, saveFix, help]) b.hidden = false;
    fix.hidden = true;
    image.set(image.points);
    image.stage.focus();
  }

  async function send(body, button) {
    if (!pending || JSON.stringify(pending.body) !== JSON.stringify(body)) pending = { id: uuid(), body };
    say(status, "Saving…", "info");
    try {
      await busy(button, () =>
        api("POST", `/api/tasks/${encodeURIComponent(taskId)}/verify`, { json: { annotation_id: pending.id, ...body }, retry: true }),
      );
    } catch (error) {
      sayError(status, error);
      return false;
    }
    pending = null;
    unsaved.set("verify", false);
    setCanComplete(true);
    verdict.textContent = body.verdict === "correct" ? `Saved: correct (count ${body.count}).` : `Saved: fixed (count ${body.count}, ${body.points.length} points).`;
    say(status, "Saved. Finish the task when you are done.", "ok");
    return true;
  }

  correct.addEventListener("click", () => send({ verdict: "correct", count: originalCount, points: original }, correct));
  fix.addEventListener("click", startFix);
  undo.addEventListener("click", () => image.undo());
  clearAll.addEventListener("click", () => image.set([]));
  reset.addEventListener("click", () => {
    countTyped = false;
    image.set(original);
  });
  countInput.addEventListener("input", () => {
    countTyped = true;
    unsaved.set("verify", true);
  });
  saveFix.addEventListener("click", () => {
    const count = Number(countInput.value);
    if (!Number.isInteger(count) || count < 0) {
      say(status, "The count must be a whole number, 0 or more.", "error");
      countInput.focus();
      return;
    }
    send({ verdict: "fixed", count, points: image.points.map((p) => ({ x: p.x, y: p.y })) }, saveFix);
  });
  document.addEventListener("keydown", (event) => {
    if (!fixing) return;
    const node = document.activeElement;
    const inText = node && (node.tagName === "INPUT" || node.tagName === "TEXTAREA");
    const ctrlZ = (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z";
    if (!inText && (event.key === "Backspace" || ctrlZ) && image.undo()) event.preventDefault();
  });

  image.set(original);
  setCanComplete(Boolean((task.annotations || []).length));
  if ((task.annotations || []).length) verdict.textContent = "This row already has a saved verdict.";
  await image.loaded.catch((error) => say(status, error.message, "error"));
}
