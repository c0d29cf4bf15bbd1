// Cap task: look at the image, record a spoken description (MediaRecorder) inside the task's recording window,
// replay it, upload it, re-record.

import { api, uuid } from "./api.js";
import { PointImage } from "./pointer.js";
import { busy, clear, el, formatSeconds, say, sayError, unsaved } from "./dom.js";

const TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
const EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a", "audio/wav": "wav" };

function pickType() {
  if (typeof MediaRecorder === "undefined" || typeof MediaRecorder.isTypeSupported !== "function") return "";
  return TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
}

function microphoneError(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError")
    return "The browser refused the microphone. Allow microphone access for this site (the icon in the address bar) and press Record again.";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "No microphone was found. Connect one and press Record again.";
  if (name === "NotReadableError") return "The microphone is busy in another program. Close it there and press Record again.";
  return `The recording could not start: ${error && error.message ? error.message : error}`;
}

export async function mount({ task, taskId, imagePane, workPane, setCanComplete }) {
  const [minS, maxS] = (task.recording_window_s || [60, 90]).map(Number);
  const window_ = `${formatSeconds(minS)}–${formatSeconds(maxS)}`;
  new PointImage(imagePane, { src: task.image.url, alt: "The image to describe" }); // zoom for details, no points

  const clock = el("span", { class: "clock", id: "clock", role: "timer", "aria-live": "off" }, "0:00");
  const fill = el("div", { class: "fill" });
  const meter = el("div", { class: "meter", role: "progressbar", "aria-label": "Recording length", "aria-valuemin": 0, "aria-valuemax": maxS, "aria-valuenow": 0 },
    fill, el("div", { class: "min", style: { left: `${(minS / maxS) * 100}%` }, title: `minimum ${formatSeconds(minS)}` }));
  const recordButton = el("button", { type: "button", class: "record", id: "record" }, "● Record");
  const stopButton = el("button", { type: "button", id: "stop", hidden: true }, "■ Stop");
  const cancelButton = el("button", { type: "button", id: "cancel", hidden: true }, "Cancel");
  const uploadButton = el("button", { type: "button", class: "primary", id: "upload", hidden: true }, "Upload recording");
  const rerecordButton = el("button", { type: "button", id: "rerecord", hidden: true }, "Re-record");
  const deleteButton = el("button", { type: "button", class: "danger", id: "delete", hidden: true }, "Delete recording");
  const player = el("audio", { controls: true, id: "player", hidden: true, preload: "metadata" });
  const state = el("p", { id: "state", "aria-live": "polite" });
  const status = el("div", { class: "status", role: "status", hidden: true });

  clear(workPane).append(
    el("h2", {}, "Describe the image out loud"),
    el("p", {}, "Describe everything you see in detail: objects, people, text, colours, positions, style. Speak for ",
      el("strong", { id: "window" }, `${window_} (${minS}–${maxS} s)`), "; the recording stops by itself at the end of the window."),
    el("div", { class: "row" }, clock, el("span", { class: "muted" }, `/ ${formatSeconds(maxS)}`)),
    meter,
    state,
    el("div", { class: "row" }, recordButton, stopButton, cancelButton, uploadButton, rerecordButton, deleteButton),
    player,
    status,
  );

  let recorder = null;
  let stream = null;
  let chunks = [];
  let started = 0;
  let ticker = null;
  let limitTimer = null;
  let cancelled = false;
  let take = null; // {blob, seconds, id} recorded here, not yet uploaded (id kept for retries)
  let savedRecording = null; // {annotation_id, seconds} on the server
  const current = (task.annotations || []).filter((a) => !a.superseded && !a.deleted).pop();
  if (current) savedRecording = { annotation_id: current.annotation_id, seconds: current.seconds ?? current.duration_s };

  function show(buttons) {
    for (const [button, shown] of buttons) button.hidden = !shown;
  }

  function setElapsed(seconds) {
    clock.textContent = formatSeconds(seconds);
    fill.style.width = `${Math.min(100, (seconds / maxS) * 100)}%`;
    fill.classList.toggle("ok", seconds >= minS);
    meter.setAttribute("aria-valuenow", String(Math.round(seconds)));
  }

  function idle() {
    show([[recordButton, true], [stopButton, false], [cancelButton, false], [uploadButton, false], [rerecordButton, false], [deleteButton, false]]);
    if (savedRecording) {
      player.src = `/api/recordings/${encodeURIComponent(savedRecording.annotation_id)}`;
      player.hidden = false;
      const seconds = Number(savedRecording.seconds);
      state.textContent = `Saved recording${Number.isFinite(seconds) ? ` (${seconds.toFixed(1)} s)` : ""}. Replay it below, or record again to replace it.`;
      recordButton.textContent = "● Re-record";
      show([[deleteButton, true]]);
    } else {
      player.hidden = true;
      player.removeAttribute("src");
      state.textContent = "Press Record when you are ready.";
      recordButton.textContent = "● Record";
      setElapsed(0);
    }
    setCanComplete(Boolean(savedRecording));
    unsaved.set("recording", false);
  }

  async function start() {
    say(status, "");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof MediaRecorder === "undefined") {
      say(status, "This browser cannot record here. Recording needs a secure page (https, or http://localhost) in a current browser.", "error");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      say(status, microphoneError(error), "error");
      return;
    }
    const mimeType = pickType();
    recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    chunks = [];
    cancelled = false;
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size) chunks.push(event.data);
    });
    recorder.addEventListener("stop", finished);
    recorder.start(1000);
    started = performance.now();
    unsaved.set("recording", true);
    player.hidden = true;
    show([[recordButton, false], [stopButton, true], [cancelButton, true], [uploadButton, false], [rerecordButton, false], [deleteButton, false]]);
    stopButton.disabled = minS > 0;
    stopButton.textContent = minS > 0 ? `■ Stop (from ${formatSeconds(minS)})` : "■ Stop";
    state.replaceChildren(el("span", { class: "recording-dot" }), `Recording… keep talking for at least ${formatSeconds(minS)}.`);
    setElapsed(0);
    ticker = setInterval(tick, 200);
    limitTimer = setTimeout(() => stop(), maxS * 1000);
    stopButton.focus();
  }

  function elapsed() {
    return (performance.now() - started) / 1000;
  }

  function tick() {
    const seconds = elapsed();
    setElapsed(seconds);
    if (seconds >= minS && stopButton.disabled) {
      stopButton.disabled = false;
      stopButton.textContent = "■ Stop";
      state.replaceChildren(el("span", { class: "recording-dot" }), `Recording… you can stop now; it stops by itself at ${formatSeconds(maxS)}.`);
      stopButton.focus();
    }
  }

  function stop(cancel = false) {
    clearInterval(ticker);
    clearTimeout(limitTimer);
    cancelled = cancel;
    if (recorder && recorder.state !== "inactive") {
      take = { seconds: Math.min(elapsed(), maxS), blob: null, id: uuid() };
      recorder.stop();
    }
    if (stream) stream.getTracks().forEach((t) => t.stop());
  }

  function finished() {
    const type = (recorder.mimeType || chunks[0]?.type || "audio/webm").split(";")[0];
    recorder = null;
    stream = null;
    if (cancelled) {
      take = null;
      idle();
      say(status, "Recording discarded.", "info");
      return;
    }
    take.blob = new Blob(chunks, { type });
    take.type = type;
    setElapsed(take.seconds);
    player.src = URL.createObjectURL(take.blob);
    player.hidden = false;
    if (take.seconds < minS) {
      state.textContent = `This recording is ${take.seconds.toFixed(1)} s, shorter than ${minS} s. Record again.`;
      show([[stopButton, false], [cancelButton, false], [uploadButton, false], [rerecordButton, true]]);
      return;
    }
    state.textContent = `Recorded ${take.seconds.toFixed(1)} s. Listen to it, then upload it (or record again).`;
    show([[stopButton, false], [cancelButton, false], [uploadButton, true], [rerecordButton, true]]);
    uploadButton.focus();
  }

  async function upload() {
    const form = new FormData();
    form.append("annotation_id", take.id);
    form.append("duration_s", take.seconds.toFixed(2));
    form.append("audio", take.blob, `recording.${EXTENSIONS[take.type] || "webm"}`);
    say(status, "Uploading…", "info");
    let result;
    try {
      result = await busy(uploadButton, () =>
        api("POST", `/api/tasks/${encodeURIComponent(taskId)}/recordings`, { form, retry: true }),
      );
    } catch (error) {
      sayError(status, error);
      return;
    }
    URL.revokeObjectURL(player.src);
    savedRecording = { annotation_id: result.annotation_id || take.id, seconds: result.seconds ?? take.seconds };
    take = null;
    idle();
    say(status, `Uploaded. The server measured ${Number(savedRecording.seconds).toFixed(1)} s.`, "ok");
  }

  async function remove() {
    if (!savedRecording || !confirm("Delete the saved recording?")) return;
    try {
      await busy(deleteButton, () =>
        api("DELETE", `/api/tasks/${encodeURIComponent(taskId)}/recordings/${encodeURIComponent(savedRecording.annotation_id)}`, { retry: true }),
      );
    } catch (error) {
      sayError(status, error);
      return;
    }
    savedRecording = null;
    idle();
    say(status, "Recording deleted.", "ok");
  }

  recordButton.addEventListener("click", start);
  stopButton.addEventListener("click", () => stop(false));
  cancelButton.addEventListener("click", () => stop(true));
  uploadButton.addEventListener("click", upload);
  rerecordButton.addEventListener("click", () => {
    if (player.src.startsWith("blob:")) URL.revokeObjectURL(player.src);
    take = null;
    start();
  });
  deleteButton.addEventListener("click", remove);
  idle();
}
