// The mask editor's front-end (an anywidget ES module): the picture with the mask drawn over it, translucent.
// Strokes are drawn on a canvas at the picture's working size while the mouse moves (nothing is sent); on release
// the whole mask goes to Python as run lengths (alternating keep / erase runs, row-major, starting with keep).
// Python keeps the history (undo, clear) and the object selection, and sends the mask back: that is what the
// overlay then shows. root.dataset.roundTripMs: the last time from a release to the overlay showing Python's mask.

const ON = 0xff2828ff; // RGBA (255, 40, 40, 255) as a little-endian Uint32; the canvas's CSS opacity makes it translucent
const TOOLS = [["brush", "brush"], ["eraser", "eraser brush"], ["box", "box"], ["select", "select object"]];

function decode(runs, ctx, w, h) {
  const img = ctx.createImageData(w, h);
  const px = new Uint32Array(img.data.buffer);
  let i = 0;
  for (let k = 0; k < runs.length; k++) {
    if (k % 2) px.fill(ON, i, i + runs[k]);
    i += runs[k];
  }
  ctx.putImageData(img, 0, 0);
}

function encode(ctx, w, h) {
  const a = ctx.getImageData(0, 0, w, h).data;
  const runs = [];
  let on = false, n = 0;
  for (let i = 3; i < a.length; i += 4) {
    if ((a[i] >= 128) !== on) { runs.push(n); n = 0; on = !on; }
    n++;
  }
  runs.push(n);
  return runs;
}

function make(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function render({ model, el }) {
  const root = make("div", "eradiff-me", el);
  const bar = make("div", "eradiff-me-bar", root);
  let tool = "brush", seq = 0, pending = null, drag = null;
  const buttons = {};
  for (const [name, label] of TOOLS) {
    const b = make("button", "eradiff-me-tool", bar, label);
    b.dataset.tool = name;
    b.onclick = () => { tool = name; for (const k in buttons) buttons[k].classList.toggle("on", k === name); };
    buttons[name] = b;
  }
  buttons.brush.classList.add("on");
  const sizeLabel = make("label", "eradiff-me-size", bar, "size ");
  const size = make("input", "", sizeLabel);
  size.type = "range";
  size.min = 1;
  const sizeValue = make("span", "", sizeLabel);
  size.oninput = () => { sizeValue.textContent = ` ${size.value} px`; };
  const undo = make("button", "eradiff-me-undo", bar, "undo");
  const clear = make("button", "eradiff-me-clear", bar, "clear");
  const stage = make("div", "eradiff-me-stage", root);
  const img = make("img", "eradiff-me-picture", stage);
  img.draggable = false;
  const canvas = make("canvas", "eradiff-me-mask", stage);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const boxView = make("div", "eradiff-me-boxview", stage);
  const message = make("div", "eradiff-me-message", root);

  const send = (content) => { seq += 1; model.send({ ...content, seq }); return seq; };
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  const showMask = () => {
    const state = model.get("mask_state") || {};
    decode(state.rle || [], ctx, canvas.width, canvas.height);
    if (pending && state.ack === pending.seq) {
      const t0 = pending.t0;
      pending = null;
      requestAnimationFrame(() => {
        const ms = performance.now() - t0;
        root.dataset.roundTripMs = ms.toFixed(1);
        root.dataset.roundTrips = String(Number(root.dataset.roundTrips || 0) + 1);
        model.send({ type: "timing", ms });
      });
    }
    root.dataset.revision = String(state.ack === undefined ? -1 : state.ack);
  };
  const showPicture = () => {
    const w = model.get("work_width"), h = model.get("work_height");
    canvas.width = w;
    canvas.height = h;
    stage.style.width = `${model.get("display_width")}px`;
    stage.style.height = `${Math.round(model.get("display_width") * h / w)}px`;
    img.src = model.get("picture_url");
    size.max = model.get("brush_max");
    size.value = model.get("brush");
    size.oninput();
    showMask();
  };
  const showMessage = () => { message.textContent = model.get("message"); };

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    canvas.setPointerCapture(e.pointerId);
    const [x, y] = point(e);
    drag = { x0: x, y0: y, x, y };
    if (tool === "brush" || tool === "eraser") {
      ctx.globalCompositeOperation = tool === "eraser" ? "destination-out" : "source-over";
      ctx.fillStyle = ctx.strokeStyle = "rgb(255, 40, 40)";
      ctx.lineWidth = Number(size.value);
      ctx.lineCap = ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    }
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const [x, y] = point(e);
    if (tool === "brush" || tool === "eraser") {
      ctx.beginPath();
      ctx.moveTo(drag.x, drag.y);
      ctx.lineTo(x, y);
      ctx.stroke();
    } else if (tool === "box") {
      const s = stage.clientWidth / canvas.width;
      Object.assign(boxView.style, {
        display: "block", left: `${Math.min(x, drag.x0) * s}px`, top: `${Math.min(y, drag.y0) * s}px`,
        width: `${Math.abs(x - drag.x0) * s}px`, height: `${Math.abs(y - drag.y0) * s}px`,
      });
    }
    drag.x = x;
    drag.y = y;
  });
  canvas.addEventListener("pointerup", (e) => {
    if (!drag) return;
    const [x, y] = point(e);
    const d = drag;
    drag = null;
    boxView.style.display = "none";
    if (tool === "select") {
      message.textContent = "selecting the object under the click...";
      send({ type: "select", x: Math.floor(x), y: Math.floor(y) });
      return;
    }
    if (tool === "box") {
      ctx.globalCompositeOperation = "source-over";
      ctx.fillStyle = "rgb(255, 40, 40)";
      const x0 = Math.floor(Math.min(x, d.x0)), y0 = Math.floor(Math.min(y, d.y0));
      ctx.fillRect(x0, y0, Math.ceil(Math.max(x, d.x0)) - x0, Math.ceil(Math.max(y, d.y0)) - y0);
    }
    const t0 = performance.now();
    const runs = encode(ctx, canvas.width, canvas.height);
    pending = { seq: send({ type: "edit", rle: runs }), t0 };
  });
  undo.onclick = () => send({ type: "undo" });
  clear.onclick = () => send({ type: "clear" });

  const events = [["change:mask_state", showMask], ["change:message", showMessage],
    ["change:picture_url change:work_width change:work_height change:display_width change:brush_max", showPicture]];
  for (const [name, fn] of events) model.on(name, fn);
  showPicture();
  showMessage();
  model.send({ type: "ready" });
  return () => { for (const [name, fn] of events) model.off(name, fn); };
}

export default { render };
