// AMA task: the annotator asks a question about the image, the server drafts an answer (OCR + caption + a text
// LLM: it can take a while), the annotator accepts it, rejects it with a reason (and asks for a new draft) or
// edits it. Every round stays on the page.

import { api, uuid } from "./api.js";
import { PointImage } from "./pointer.js";
import { busy, clear, el, say, sayError, unsaved } from "./dom.js";

const ACTION_NAMES = { accepted: "Accepted", rejected: "Rejected", edited: "Edited" };

function normalizeQuestion(annotation) {
  const a = { ...(annotation.data || annotation.payload || {}), ...annotation };
  const rounds = (a.rounds || []).map((r, i) => ({ round: r.round ?? i + 1, draft: r.draft ?? "", action: r.action || "", reason: r.reason || "", edited_answer: r.edited_answer || "" }));
  return { question_id: a.question_id || a.annotation_id || a.record_id, question: a.question || "", rounds };
}

export async function mount({ task, taskId, imagePane, workPane, setCanComplete }) {
  new PointImage(imagePane, { src: task.image.url, alt: "The image the questions are about" }); // zoom for details, no points

  const questionInput = el("textarea", { id: "question", rows: 3, maxlength: 1000, "aria-describedby": "question-hint" });
  const askButton = el("button", { type: "submit", class: "primary", id: "ask" }, "Ask for a draft answer");
  const status = el("div", { class: "status", role: "status", hidden: true });
  const list = el("div", { id: "questions" });
  const form = el("form", { id: "ask-form", novalidate: true },
    el("h2", {}, "Ask the model anything about this image"),
    el("label", { for: "question" }, "Your question"),
    questionInput,
    el("p", { class: "hint", id: "question-hint" }, "Ask something a person would ask about this image. ", el("kbd", {}, "Enter"), " asks, ",
      el("kbd", {}, "Shift+Enter"), " adds a line. The model drafts an answer; you check it against the image."),
    status,
    el("div", { class: "row" }, askButton));
  clear(workPane).append(form, list);

  const questions = (task.annotations || []).map(normalizeQuestion).filter((q) => q.question_id && q.question);
  const drafting = new Set();

  function isFinished(q) {
    const last = q.rounds[q.rounds.length - 1];
    return Boolean(last && (last.action === "accepted" || last.action === "edited"));
  }

  function updateState() {
    setCanComplete(questions.some(isFinished));
    const open = questions.some((q) => !isFinished(q));
    unsaved.set("ama", open || drafting.size > 0 || questionInput.value.trim() !== "");
  }

  function renderQuestion(q) {
    const card = q.card || (q.card = el("article", { class: "question", dataset: { questionId: q.question_id } }));
    clear(card);
    card.append(el("div", { class: "q" }, q.question));
    q.rounds.forEach((r, i) => {
      const last = i === q.rounds.length - 1;
      const box = el("div", { class: `round ${r.action}`, dataset: { round: String(r.round) } },
        el("div", { class: "small muted" }, `Draft ${r.round}${r.action ? ` · ${ACTION_NAMES[r.action] || r.action}` : " · waiting for your review"}`),
        el("div", { class: "draft" }, r.draft));
      if (r.action === "rejected" && r.reason) box.append(el("div", { class: "small" }, el("strong", {}, "Reason: "), r.reason));
      if (r.action === "edited") box.append(el("div", { class: "small" }, el("strong", {}, "Your answer: "), el("span", { class: "draft" }, r.edited_answer)));
      if (last && !r.action) box.append(reviewControls(q, r));
      card.append(box);
    });
    const last = q.rounds[q.rounds.length - 1];
    if (drafting.has(q.question_id)) {
      const seconds = el("span", {}, "0");
      const started = performance.now();
      const timer = setInterval(() => {
        if (!card.isConnected || !drafting.has(q.question_id)) clearInterval(timer);
        else seconds.textContent = String(Math.floor((performance.now() - started) / 1000));
      }, 500);
      card.append(el("div", { class: "status", dataset: { kind: "info" }, role: "status", "aria-live": "polite" },
        el("span", { class: "spinner", "aria-hidden": "true" }), "Drafting an answer (OCR, caption, language model)… ", seconds, " s"));
    } else if (q.error) {
      card.append(el("div", { class: "status", dataset: { kind: "error" }, role: "alert" }, q.error),
        el("div", { class: "row" }, el("button", { type: "button", onclick: () => draft(q) }, "Try again")));
    } else if (!last || last.action === "rejected") {
      card.append(el("div", { class: "row" }, el("button", { type: "button", class: "primary", onclick: () => draft(q) }, last ? "Ask for a new draft" : "Ask for a draft")));
    }
    if (!card.isConnected) list.prepend(card);
    updateState();
  }

  function reviewControls(q, r) {
    const reasonInput = el("input", { type: "text", id: `reason-${q.question_id}`, maxlength: 1000 });
    const editInput = el("textarea", { id: `edit-${q.question_id}`, rows: 4, maxlength: 4000 });
    editInput.value = r.draft;
    const reasonBox = el("div", { hidden: true },
      el("label", { for: reasonInput.id }, "What is wrong with this draft?"), reasonInput,
      el("div", { class: "row" }, el("button", { type: "button", class: "danger", dataset: { act: "confirm-reject" } }, "Reject")));
    const editBox = el("div", { hidden: true },
      el("label", { for: editInput.id }, "The correct answer"), editInput,
      el("div", { class: "row" }, el("button", { type: "button", class: "primary", dataset: { act: "save-edit" } }, "Save my answer")));
    const message = el("div", { class: "status", role: "alert", hidden: true });
    const accept = el("button", { type: "button", class: "primary", dataset: { act: "accept" } }, "Accept");
    const reject = el("button", { type: "button", dataset: { act: "reject" } }, "Reject…");
    const edit = el("button", { type: "button", dataset: { act: "edit" } }, "Edit…");
    reject.addEventListener("click", () => {
      reasonBox.hidden = false;
      editBox.hidden = true;
      reasonInput.focus();
    });
    edit.addEventListener("click", () => {
      editBox.hidden = false;
      reasonBox.hidden = true;
      editInput.focus();
    });
    async function review(button, body) {
      try {
        await busy(button, () =>
          api("POST", `/api/tasks/${encodeURIComponent(taskId)}/ama/review`, { json: { question_id: q.question_id, round: r.round, ...body }, retry: true }),
        );
      } catch (error) {
        sayError(message, error);
        return;
      }
      Object.assign(r, body);
      renderQuestion(q);
      if (body.action !== "rejected") questionInput.focus();
    }
    accept.addEventListener("click", () => review(accept, { action: "accepted" }));
    const confirmReject = reasonBox.querySelector("[data-act=confirm-reject]");
    const rejectNow = () => {
      const reason = reasonInput.value.trim();
      if (!reason) {
        say(message, "Say why the draft is wrong (the reason helps improve the drafts).", "error");
        reasonInput.focus();
        return;
      }
      review(confirmReject, { action: "rejected", reason });
    };
    confirmReject.addEventListener("click", rejectNow);
    reasonInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        rejectNow();
      }
    });
    const saveEdit = editBox.querySelector("[data-act=save-edit]");
    saveEdit.addEventListener("click", () => {
      const answer = editInput.value.trim();
      if (!answer) {
        say(message, "Write the answer, or reject the draft instead.", "error");
        editInput.focus();
        return;
      }
      review(saveEdit, { action: "edited", edited_answer: answer });
    });
    return el("div", {}, el("div", { class: "row" }, accept, reject, edit), reasonBox, editBox, message);
  }

  async function draft(q) {
    q.error = "";
    drafting.add(q.question_id);
    renderQuestion(q);
    try {
      const result = await api("POST", `/api/tasks/${encodeURIComponent(taskId)}/ama/draft`, {
        json: { question_id: q.question_id, question: q.question },
        retry: true,
      });
      const round = Number(result.round);
      const existing = q.rounds.find((r) => r.round === round);
      if (existing) existing.draft = result.draft;
      else q.rounds.push({ round, draft: result.draft, action: "", reason: "", edited_answer: "" });
    } catch (error) {
      q.error = `No draft: ${error.message}`;
    } finally {
      drafting.delete(q.question_id);
    }
    renderQuestion(q);
    const accept = q.card.querySelector("[data-act=accept]");
    if (accept) accept.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = questionInput.value.trim();
    if (!question) {
      say(status, "Write a question first.", "error");
      questionInput.focus();
      return;
    }
    say(status, "");
    const q = { question_id: uuid(), question, rounds: [] };
    questions.push(q);
    questionInput.value = "";
    draft(q);
  });
  questionInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  questionInput.addEventListener("input", updateState);

  for (const q of questions) renderQuestion(q); // oldest first: each is prepended, newest ends on top
  updateState();
  questionInput.focus();
}
