// Points task: a referring expression, a click on every instance (or "not present"), several expressions per
// image, optional explanations.

import { api, uuid } from "./api.js";
import { busy, clear, el, say, sayError, unsaved } from "./dom.js";
import { PointImage, renderPointList } from "./pointer.js";

/** The fields of a saved annotation, whether the server nests them under `data` or not. */
export function annotationFields(annotation) {
  return { ...(annotation.data || annotation.payload || {}), ...annotation };
}

// Saved expressions are listed a page at a time (newest page first): hundreds would make the page metres tall.
export const SAVED_PAGE = 10;

const isTextField = (node) =>
  node && (node.tagName === "TEXTAREA" || (node.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(node.type)) || node.isContentEditable);

export async function mount({ task, taskId, imagePane, workPane, setCanComplete }) {
  const saved = (task.annotations || []).map(annotationFields).filter((a) => a.label !== undefined);
  const image = new PointImage(imagePane, {
    src: task.image.url,
    alt: "The image to point at",
    editable: true,
    onChange: () => refresh(),
  });

  const label = el("input", { id: "label", type: "text", autocomplete: "off", maxlength: 500, "aria-describedby": "label-hint" });
  const explanation = el("textarea", { id: "explanation", rows: 3, maxlength: 4000 });
  const count = el("span", { id: "point-count", "aria-live": "polite" });
  const list = el("ol", { class: "points-list", id: "points", "aria-label": "Points of this expression" });
  const undo = el("button", { type: "button", id: "undo", title: "Undo the last point (Backspace or Ctrl+Z)" }, "Undo last point");
  const clearAll = el("button", { type: "button", id: "clear" }, "Clear points");
  const save = el("button", { type: "submit", class: "primary", id: "save" }, "Save expression");
  const notPresent = el("button", { type: "button", id: "not-present", title: "The expression matches nothing in this image" }, "Not present");
  const status = el("div", { class: "status", role: "status", hidden: true });
  const savedList = el("ul", { class: "expressions", id: "saved" });
  const savedTitle = el("h3", { id: "saved-title" });
  const older = el("button", { type: "button", id: "saved-older" }, "‹ Older");
  const newer = el("button", { type: "button", id: "saved-newer" }, "Newer ›");
  const range = el("span", { id: "saved-range", "aria-live": "polite" });
  const pager = el("div", { class: "row pager", id: "saved-pager", hidden: true }, older, range, newer);
  const listStatus = el("div", { class: "status", role: "alert", id: "saved-status", hidden: true }); // errors loading a page

  const form = el(
    "form",
    { id: "points-form", novalidate: true },
    el("h2", {}, "Point at every instance"),
    el("label", { for: "label" }, "Referring expression"),
    label,
    el("p", { class: "hint", id: "label-hint" }, "E.g. “red cars” or “the man’s left hand”. Click each instance on the image; ",
      el("kbd", {}, "Enter"), " saves, ", el("kbd", {}, "Backspace"), " / ", el("kbd", {}, "Ctrl+Z"), " undo the last point, ",
      el("kbd", {}, "Ctrl"), " + wheel zooms."),
    el("div", { class: "row" }, el("strong", {}, "Points: "), count, el("span", { class: "spacer" }), undo, clearAll),
    list,
    el("details", {}, el("summary", {}, "Explanation (optional)"),
      el("label", { for: "explanation" }, "Why these points? (e.g. what makes each one match)"), explanation),
    status,
    el("div", { class: "row" }, save, notPresent),
  );
  clear(workPane).append(form, savedTitle, savedList, pager, listStatus);

  let pending = null; // {id, body} of a save that has not succeeded yet: retried with the same id

  function refresh() {
    const n = image.points.length;
    count.textContent = n === 0 ? "none yet" : String(n);
    renderPointList(list, image.points, (i) => image.remove(i));
    undo.disabled = n === 0;
    clearAll.disabled = n === 0;
    notPresent.disabled = n > 0;
    unsaved.set("points", n > 0 || label.value.trim() !== "" || explanation.value.trim() !== "");
  }

  // Which page of saved expressions is shown, counted from the newest (0); each page is in the order they were saved.
  let pageFromNewest = 0;

  function savedItem(a) {
    const points = a.points || [];
    const what = a.not_present ? el("span", { class: "badge no" }, "not present") : el("span", { class: "badge ok" }, `${points.length} point${points.length === 1 ? "" : "s"}`);
    return el("li", { dataset: { annotationId: a.annotation_id || "" } },
      el("div", { class: "row", style: { margin: 0 } }, el("span", { class: "label" }, a.label), what),
      a.explanation ? el("div", { class: "small muted" }, a.explanation) : null);
  }

  /** One page of the saved expressions, from the server (GET /api/tasks/{id}/annotations). */
  async function showSavedPage(fromNewest) {
    const total = saved.length;
    const end = Math.max(0, total - fromNewest * SAVED_PAGE);
    const offset = Math.max(0, end - SAVED_PAGE);
    const limit = Math.max(1, end - offset);
    const before = [older.disabled, newer.disabled];
    older.disabled = newer.disabled = true; // one page request at a time: a second click waits for this one
    try {
      const page = await api("GET", `/api/tasks/${encodeURIComponent(taskId)}/annotations?kind=points&offset=${offset}&limit=${limit}`);
      pageFromNewest = fromNewest;
      clear(savedList).append(...page.annotations.map(annotationFields).map(savedItem));
      pager.hidden = page.total <= SAVED_PAGE;
      range.textContent = page.total ? `${offset + 1}–${offset + page.annotations.length} of ${page.total}` : "";
      older.disabled = offset === 0;
      newer.disabled = fromNewest === 0;
      say(listStatus, "");
    } catch (error) {
      [older.disabled, newer.disabled] = before;
      sayError(listStatus, error);
    }
  }

  async function renderSaved() {
    savedTitle.textContent = `Saved expressions (${saved.length})`;
    image.setBackground(saved.flatMap((a) => a.points || []));
    setCanComplete(saved.length > 0);
    await showSavedPage(0);
  }

  older.addEventListener("click", () => showSavedPage(pageFromNewest + 1));
  newer.addEventListener("click", () => showSavedPage(pageFromNewest - 1));

  async function submit(notPresentFlag) {
    const text = label.value.trim();
    if (!text) {
      say(status, "Write the referring expression first.", "error");
      label.focus();
      return;
    }
    if (!notPresentFlag && image.points.length === 0) {
      say(status, "Click every instance on the image, or press “Not present” if there is none.", "error");
      return;
    }
    const body = {
      label: text,
      points: notPresentFlag ? [] : image.points.map((p) => ({ x: p.x, y: p.y })),
      not_present: notPresentFlag,
    };
    if (explanation.value.trim()) body.explanation = explanation.value.trim();
    if (!pending || JSON.stringify(pending.body) !== JSON.stringify(body)) pending = { id: uuid(), body };
    const request = { annotation_id: pending.id, ...body };
    say(status, "Saving…", "info");
    try {
      await busy(notPresentFlag ? notPresent : save, () =>
        api("POST", `/api/tasks/${encodeURIComponent(taskId)}/points`, { json: request, retry: true }),
      );
    } catch (error) {
      sayError(status, error);
      return;
    }
    pending = null;
    saved.push({ annotation_id: request.annotation_id, ...body });
    label.value = "";
    explanation.value = "";
    image.set([]);
    await renderSaved();
    say(status, notPresentFlag ? `Saved “${text}” as not present.` : `Saved “${text}” with ${body.points.length} point${body.points.length === 1 ? "" : "s"}.`, "ok");
    label.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(false);
  });
  notPresent.addEventListener("click", () => submit(true));
  undo.addEventListener("click", () => image.undo());
  clearAll.addEventListener("click", () => image.set([]));
  label.addEventListener("input", refresh);
  explanation.addEventListener("input", refresh);
  document.addEventListener("keydown", (event) => {
    const inText = isTextField(document.activeElement);
    const ctrlZ = (event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z";
    if ((event.key === "Backspace" && !inText) || (ctrlZ && !inText)) {
      if (image.undo()) event.preventDefault();
    } else if (event.key === "Enter" && document.activeElement === image.stage) {
      event.preventDefault(); // Enter on the image saves, like Enter in the expression field
      submit(false);
    }
  });

  await image.loaded.catch((error) => say(status, error.message, "error"));
  await renderSaved();
  refresh();
  label.focus();
}
