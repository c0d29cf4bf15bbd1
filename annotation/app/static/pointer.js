// An image with points on it: click (or move the keyboard cursor with the arrow keys and press Space) to add a
// point, undo, clear, zoom for small objects. Points are in percent of the image's natural width and height
// (0-100), as pixmo-points stores them.

import { clear, el } from "./dom.js";

const ZOOMS = [1, 1.5, 2, 3, 4, 6, 8];
const round2 = (v) => Math.round(v * 100) / 100;
const clamp = (v) => Math.min(100, Math.max(0, v));

export class PointImage {
  /**
   * @param {HTMLElement} host where the viewer goes
   * @param {{src: string, alt: string, editable?: boolean, onChange?: (points) => void}} options
   */
  constructor(host, { src, alt, editable = false, onChange = () => {} }) {
    this.editable = editable;
    this.onChange = onChange;
    this.points = [];
    this.background = []; // points of other (already saved) expressions, drawn small
    this.zoomIndex = 0;
    this.cursor = { x: 50, y: 50, shown: false };

    this.img = el("img", { src, alt, draggable: "false" });
    this.layer = el("div", { class: "layer", "aria-hidden": "true" });
    this.cursorEl = el("div", { class: "cursor", hidden: true });
    this.stage = el("div", { class: `stage${editable ? " editable" : ""}` }, this.img, this.layer, this.cursorEl);
    this.viewer = el("div", { class: "viewer" }, this.stage);
    this.zoomOut = el("button", { type: "button", "aria-label": "Zoom out", title: "Zoom out (-)" }, "−");
    this.zoomIn = el("button", { type: "button", "aria-label": "Zoom in", title: "Zoom in (+)" }, "+");
    this.zoomFit = el("button", { type: "button", title: "Fit the image (0)" }, "Fit");
    this.zoomLabel = el("output", { "aria-live": "polite", "aria-label": "Zoom level" }, "100%");
    this.zoomOut.addEventListener("click", () => this.zoom(this.zoomIndex - 1));
    this.zoomIn.addEventListener("click", () => this.zoom(this.zoomIndex + 1));
    this.zoomFit.addEventListener("click", () => this.zoom(0));
    const tools = el("div", { class: "viewer-tools" }, el("span", { class: "muted small" }, "Zoom"), this.zoomOut, this.zoomLabel, this.zoomIn, this.zoomFit);
    clear(host).append(tools, this.viewer);
    this.zoomOut.disabled = true;

    this.loaded = new Promise((resolve, reject) => {
      this.img.addEventListener("load", () => { this.layout(); resolve(); }, { once: true });
      this.img.addEventListener("error", () => reject(new Error(`The image ${src} could not be loaded.`)), { once: true });
    });

    if (editable) {
      this.stage.tabIndex = 0;
      this.stage.setAttribute("role", "application");
      this.stage.setAttribute(
        "aria-label",
        `${alt}. Click each instance to add a point. With the keyboard: arrow keys move the cursor (Shift for big steps), Space adds a point, Backspace undoes.`,
      );
      this.stage.addEventListener("click", (event) => this.clicked(event));
      this.stage.addEventListener("keydown", (event) => this.key(event));
      this.stage.addEventListener("focus", () => this.showCursor(this.stage.matches(":focus-visible")));
      this.stage.addEventListener("blur", () => this.showCursor(false));
    }
    window.addEventListener("resize", () => this.layout());
    this.viewer.addEventListener("wheel", (event) => {
      if (!event.ctrlKey) return; // Ctrl + wheel zooms; plain wheel scrolls
      event.preventDefault();
      this.zoom(this.zoomIndex + (event.deltaY < 0 ? 1 : -1), event);
    }, { passive: false });
  }

  clicked(event) {
    const rect = this.img.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const x = ((event.clientX - rect.left) / rect.width) * 100;
    const y = ((event.clientY - rect.top) / rect.height) * 100;
    if (x < 0 || x > 100 || y < 0 || y > 100) return;
    this.add({ x, y });
  }

  key(event) {
    const step = event.shiftKey ? 5 : 0.5;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      event.preventDefault();
      const [dx, dy] = moves[event.key];
      this.cursor.x = clamp(this.cursor.x + dx);
      this.cursor.y = clamp(this.cursor.y + dy);
      this.showCursor(true);
    } else if (event.key === " ") {
      event.preventDefault();
      this.add({ x: this.cursor.x, y: this.cursor.y });
      this.showCursor(true);
    } else if (event.key === "+" || event.key === "=") {
      event.preventDefault();
      this.zoom(this.zoomIndex + 1);
    } else if (event.key === "-") {
      event.preventDefault();
      this.zoom(this.zoomIndex - 1);
    } else if (event.key === "0") {
      event.preventDefault();
      this.zoom(0);
    }
  }

  showCursor(shown) {
    this.cursor.shown = shown;
    this.cursorEl.hidden = !shown;
    this.cursorEl.style.left = `${this.cursor.x}%`;
    this.cursorEl.style.top = `${this.cursor.y}%`;
    if (shown) this.scrollIntoView(this.cursor);
  }

  scrollIntoView(point) {
    const v = this.viewer;
    const px = (point.x / 100) * this.stage.clientWidth;
    const py = (point.y / 100) * this.stage.clientHeight;
    if (px < v.scrollLeft + 20 || px > v.scrollLeft + v.clientWidth - 20) v.scrollLeft = px - v.clientWidth / 2;
    if (py < v.scrollTop + 20 || py > v.scrollTop + v.clientHeight - 20) v.scrollTop = py - v.clientHeight / 2;
  }

  zoom(index, event = null) {
    const next = Math.max(0, Math.min(ZOOMS.length - 1, index));
    const v = this.viewer;
    // Keep the point under the mouse (or the centre of the view) where it is.
    const rect = v.getBoundingClientRect();
    const ax = event ? event.clientX - rect.left : v.clientWidth / 2;
    const ay = event ? event.clientY - rect.top : v.clientHeight / 2;
    const fx = (v.scrollLeft + ax) / Math.max(1, this.stage.clientWidth);
    const fy = (v.scrollTop + ay) / Math.max(1, this.stage.clientHeight);
    this.zoomIndex = next;
    this.layout();
    v.scrollLeft = fx * this.stage.clientWidth - ax;
    v.scrollTop = fy * this.stage.clientHeight - ay;
  }

  /** Size the image: at zoom 1 the whole image fits the viewer (width and 75% of the window height). */
  layout() {
    const z = ZOOMS[this.zoomIndex];
    const w = this.img.naturalWidth;
    const h = this.img.naturalHeight;
    if (w && h) {
      const fit = Math.min(this.viewer.clientWidth || w, (window.innerHeight * 0.75 - 2) * (w / h));
      this.stage.style.width = `${Math.max(50, Math.floor(fit * z))}px`;
    } else {
      this.stage.style.width = `${z * 100}%`;
    }
    this.zoomLabel.textContent = `${Math.round(z * 100)}%`;
    this.zoomOut.disabled = this.zoomIndex === 0;
    this.zoomIn.disabled = this.zoomIndex === ZOOMS.length - 1;
  }

  add(point) {
    if (!this.editable) return;
    this.points.push({ x: round2(clamp(point.x)), y: round2(clamp(point.y)) });
    this.draw();
  }

  undo() {
    if (!this.points.length) return false;
    this.points.pop();
    this.draw();
    return true;
  }

  remove(index) {
    this.points.splice(index, 1);
    this.draw();
  }

  set(points) {
    this.points = points.map((p) => ({ x: Number(p.x), y: Number(p.y) }));
    this.draw();
  }

  setBackground(points) {
    this.background = points.map((p) => ({ x: Number(p.x), y: Number(p.y) }));
    this.draw();
  }

  draw() {
    clear(this.layer);
    for (const p of this.background) {
      this.layer.append(el("span", { class: "marker saved", style: { left: `${p.x}%`, top: `${p.y}%` } }));
    }
    this.points.forEach((p, i) => {
      this.layer.append(el("span", { class: "marker", style: { left: `${p.x}%`, top: `${p.y}%` } }, String(i + 1)));
    });
    this.onChange(this.points.slice());
  }
}

/** An ordered list of points with a remove button each (the keyboard/screen-reader view of the points). */
export function renderPointList(list, points, onRemove) {
  clear(list);
  points.forEach((p, i) => {
    const remove = onRemove
      ? el("button", { type: "button", class: "link", "aria-label": `Remove point ${i + 1}`, onclick: () => onRemove(i) }, "remove")
      : null;
    list.append(el("li", {}, `x ${p.x.toFixed(1)}%, y ${p.y.toFixed(1)}% `, remove));
  });
}
