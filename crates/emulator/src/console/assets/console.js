// The emulator's console. Plain JavaScript, no build step, no third-party code; it talks
// only to the emulator that served it (same origin).
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c);
  return node;
};

const state = {
  ops: [],            // from /__emulator/operations
  op: null,           // the selected operation
  image: null,        // { bytes: Uint8Array, base64, width, height, format, url }
  styleImage: null,   // customize_stylization's style image, same shape
  rects: [],          // inpainting rectangles, image pixels
  token: null,
  running: null,      // promise of the request in flight
  requests: new Map(),// seq -> entry
  version: 0,
  selected: null,
};

const ERROR_MESSAGES = {
  216200: "empty image",
  216201: "image format error",
  216202: "image size error",
  216101: "param missing",
  216100: "invalid param",
};

// ---------- formatting ----------

function bytes(n) {
  if (n == null) return "–";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function clock(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// ---------- images ----------

function toBase64(u8) {
  let out = "";
  const chunk = 0x8000;
  for (let i = 0; i < u8.length; i += chunk) {
    out += String.fromCharCode.apply(null, u8.subarray(i, i + chunk));
  }
  return btoa(out);
}

function sniff(u8) {
  if (u8[0] === 0xff && u8[1] === 0xd8) return "jpeg";
  if (u8[0] === 0x89 && u8[1] === 0x50 && u8[2] === 0x4e && u8[3] === 0x47) return "png";
  if (u8[0] === 0x42 && u8[1] === 0x4d) return "bmp";
  return null;
}

async function loadImage(blob) {
  const u8 = new Uint8Array(await blob.arrayBuffer());
  const url = URL.createObjectURL(blob);
  let width = 0, height = 0;
  try {
    const bitmap = await createImageBitmap(blob);
    width = bitmap.width; height = bitmap.height;
    bitmap.close();
  } catch (_) { /* not decodable: the limits check says so */ }
  return { bytes: u8, base64: toBase64(u8), width, height, format: sniff(u8), url, size: u8.length };
}

// A made-up photo: sky, sun, hills, a house; enough structure for every operation.
function sampleBlob(width = 320, height = 240, type = "image/png") {
  const c = document.createElement("canvas");
  c.width = width; c.height = height;
  const g = c.getContext("2d");
  const sky = g.createLinearGradient(0, 0, 0, height * 0.6);
  sky.addColorStop(0, "#5b8fd6"); sky.addColorStop(1, "#cfe1f4");
  g.fillStyle = sky; g.fillRect(0, 0, width, height);
  g.fillStyle = "#ffd45c"; g.beginPath(); g.arc(width * 0.78, height * 0.22, height * 0.09, 0, 7); g.fill();
  g.fillStyle = "#4f8a3c"; g.beginPath(); g.moveTo(0, height * 0.62);
  for (let x = 0; x <= width; x += 8) g.lineTo(x, height * (0.6 + 0.05 * Math.sin(x / 37)));
  g.lineTo(width, height); g.lineTo(0, height); g.fill();
  g.fillStyle = "#b5523b"; g.fillRect(width * 0.2, height * 0.5, width * 0.22, height * 0.2);
  g.fillStyle = "#6b2d22"; g.beginPath(); g.moveTo(width * 0.18, height * 0.5);
  g.lineTo(width * 0.31, height * 0.38); g.lineTo(width * 0.44, height * 0.5); g.fill();
  g.fillStyle = "#f1e6c8"; g.fillRect(width * 0.27, height * 0.56, width * 0.06, height * 0.08);
  g.fillStyle = "#222"; g.font = `${Math.round(height / 14)}px sans-serif`;
  g.fillText("emulator", width * 0.55, height * 0.9);
  return new Promise((resolve) => c.toBlob(resolve, type, 0.9));
}

// ---------- operations and their parameters ----------

async function loadOperations() {
  const r = await fetch("/__emulator/operations");
  const json = await r.json();
  state.ops = json.operations;
  const select = $("op");
  select.replaceChildren(...state.ops.map((op) => el("option", { value: op.name, text: op.name })));
  select.addEventListener("change", () => selectOperation(select.value));
  selectOperation(state.ops[0].name);
}

function limitsText(l) {
  const parts = [`base64 ≤ ${bytes(l.max_base64_len)}`];
  if (l.max_pixels) parts.push(`width × height ≤ ${l.max_pixels.toLocaleString("en")} px`);
  if (l.max_side) parts.push(`sides ${l.min_side}–${l.max_side} px`);
  else if (l.min_side > 1) parts.push(`sides ≥ ${l.min_side} px`);
  if (l.max_aspect) parts.push(`aspect ≤ ${l.max_aspect}:1`);
  return parts.join(" · ");
}

function selectOperation(name) {
  const op = state.ops.find((o) => o.name === name);
  if (!op) return;
  state.op = op;
  $("op").value = name;
  $("op-summary").textContent = `${op.summary}. ${op.path} · ${limitsText(op.limits)}`;
  const box = $("params");
  box.replaceChildren(...op.params.map(paramControl));
  updateDependentParams();
  state.rects = [];
  renderRects();
  updateRunButton();
  renderSnippets();
}

function paramControl(p) {
  const id = `param-${p.name}`;
  const wrap = el("div", { class: "param", "data-param": p.name });
  const title = `${p.name}${p.required ? " (required)" : ""}`;
  const hint = el("p", { class: "hint", text: `${p.meaning}. Allowed: ${p.allowed}.` });
  if (p.kind === "choice") {
    // A list of chips, so every style is visible at once.
    const group = el("div", { class: "chips", role: "radiogroup", id });
    const choices = p.required ? p.values : ["", ...p.values];
    const initial = p.default ?? (p.required ? p.values[0] : "");
    for (const v of choices) {
      const input = el("input", { type: "radio", name: id, value: v, checked: v === initial, onchange: () => { updateDependentParams(); renderSnippets(); } });
      group.append(el("label", {}, input, v === "" ? "(not sent)" : v));
    }
    wrap.append(el("label", { text: title }), group, hint);
  } else if (p.kind === "integer") {
    const number = el("input", { type: "number", id, min: p.min, max: p.max, step: 1, value: p.start });
    const range = el("input", { type: "range", min: p.min, max: p.max, step: 1, value: p.start, "aria-label": p.name });
    number.addEventListener("input", () => { range.value = number.value; renderSnippets(); });
    range.addEventListener("input", () => { number.value = range.value; renderSnippets(); });
    wrap.append(el("label", { for: id, text: title }), number, range, hint);
    if (!p.required) {
      const send = el("input", { type: "checkbox", id: `${id}-send`, checked: p.name === "style_id", onchange: renderSnippets });
      wrap.append(el("label", { class: "check" }, send, `send ${p.name}`));
    }
  } else if (p.kind === "rectangles") {
    wrap.append(el("label", { text: title }), el("p", { class: "hint", text: "Drag on the image to draw rectangles to fill." }),
      el("ul", { class: "rect-list", id: "rect-list" }), el("button", { type: "button", onclick: () => { state.rects = []; renderRects(); } }, "clear"), hint);
  } else if (p.kind === "image") {
    const input = el("input", { type: "file", accept: "image/jpeg,image/png,image/bmp", id });
    const info = el("span", { class: "hint", id: `${id}-info`, text: "none" });
    input.addEventListener("change", async () => {
      state.styleImage = input.files[0] ? await loadImage(input.files[0]) : null;
      info.textContent = state.styleImage ? `${state.styleImage.width}×${state.styleImage.height}, ${bytes(state.styleImage.size)}` : "none";
      renderSnippets();
    });
    wrap.append(el("label", { text: title }), el("label", { class: "button" }, "choose a style image", input), " ", info, hint);
  } else {
    wrap.append(el("label", { for: id, text: title }), el("input", { id }), hint);
  }
  return wrap;
}

function paramValue(p) {
  const id = `param-${p.name}`;
  if (p.kind === "choice") {
    const checked = document.querySelector(`input[name="${id}"]:checked`);
    return checked && checked.value !== "" ? checked.value : null;
  }
  if (p.kind === "integer") {
    const send = $(`${id}-send`);
    if (send && !send.checked) return null;
    return $(id).value === "" ? null : $(id).value;
  }
  if (p.kind === "rectangles") return state.rects.length ? state.rects : null;
  if (p.kind === "image") return state.styleImage ? state.styleImage.base64 : null;
  const v = $(id) && $(id).value;
  return v ? v : null;
}

// A parameter that only makes sense beside another one (mask_id with type=anime_mask).
function updateDependentParams() {
  if (!state.op) return;
  for (const p of state.op.params) {
    if (!p.only_with) continue;
    const [other, value] = p.only_with;
    const otherParam = state.op.params.find((q) => q.name === other);
    const on = otherParam && paramValue(otherParam) === value;
    const node = document.querySelector(`[data-param="${p.name}"]`);
    if (node) node.hidden = !on;
    const send = $(`param-${p.name}-send`);
    if (send) send.checked = on;
  }
}

function currentParams() {
  const out = [];
  for (const p of state.op.params) {
    const node = document.querySelector(`[data-param="${p.name}"]`);
    if (node && node.hidden) continue;
    const v = paramValue(p);
    if (v !== null) out.push([p.name, v, p]);
  }
  return out;
}

// ---------- inpainting rectangles ----------

function renderRects() {
  const layer = $("rects");
  const img = state.image;
  layer.replaceChildren();
  const drawing = state.op && state.op.params.some((p) => p.kind === "rectangles");
  layer.classList.toggle("drawing", Boolean(drawing));
  if (img && drawing) {
    state.rects.forEach((r, i) => {
      const box = el("div", { class: "rect" }, el("span", { text: String(i + 1) }));
      box.style.left = `${(100 * r.left) / img.width}%`;
      box.style.top = `${(100 * r.top) / img.height}%`;
      box.style.width = `${(100 * r.width) / img.width}%`;
      box.style.height = `${(100 * r.height) / img.height}%`;
      layer.append(box);
    });
  }
  const list = $("rect-list");
  if (list) {
    list.replaceChildren(...state.rects.map((r, i) => el("li", {},
      `${i + 1}: left ${r.left}, top ${r.top}, ${r.width}×${r.height}`,
      el("button", { type: "button", onclick: () => { state.rects.splice(i, 1); renderRects(); } }, "remove"))));
  }
  renderSnippets();
  updateRunButton();
}

function setupDrawing() {
  const layer = $("rects");
  let start = null, live = null;
  const toImage = (ev) => {
    const box = layer.getBoundingClientRect();
    const x = Math.min(Math.max(ev.clientX - box.left, 0), box.width);
    const y = Math.min(Math.max(ev.clientY - box.top, 0), box.height);
    return { x: Math.round((x / box.width) * state.image.width), y: Math.round((y / box.height) * state.image.height) };
  };
  const rectOf = (a, b) => ({ left: Math.min(a.x, b.x), top: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) });
  // Without rectangles to draw, dragging on the picture moves the before/after line.
  let sliding = false;
  const slideTo = (ev) => {
    const box = layer.getBoundingClientRect();
    $("slider").value = String(Math.round((100 * (ev.clientX - box.left)) / box.width));
    applySlider();
  };
  layer.addEventListener("pointerdown", (ev) => {
    if (!layer.classList.contains("drawing") && !$("after").hidden) {
      sliding = true;
      layer.setPointerCapture?.(ev.pointerId);
      slideTo(ev);
    }
  });
  layer.addEventListener("pointermove", (ev) => { if (sliding) slideTo(ev); });
  layer.addEventListener("pointerup", () => { sliding = false; });
  layer.addEventListener("pointerdown", (ev) => {
    if (!layer.classList.contains("drawing") || !state.image) return;
    layer.setPointerCapture?.(ev.pointerId);
    start = toImage(ev);
    live = el("div", { class: "rect" });
    layer.append(live);
    ev.preventDefault();
  });
  layer.addEventListener("pointermove", (ev) => {
    if (!start) return;
    const r = rectOf(start, toImage(ev));
    live.style.left = `${(100 * r.left) / state.image.width}%`;
    live.style.top = `${(100 * r.top) / state.image.height}%`;
    live.style.width = `${(100 * r.width) / state.image.width}%`;
    live.style.height = `${(100 * r.height) / state.image.height}%`;
  });
  const finish = (ev) => {
    if (!start) return;
    const r = rectOf(start, toImage(ev));
    start = null;
    if (r.width >= 2 && r.height >= 2) state.rects.push(r);
    renderRects();
  };
  layer.addEventListener("pointerup", finish);
  layer.addEventListener("pointercancel", () => { start = null; renderRects(); });
}

// ---------- the image and the before/after view ----------

async function useImage(blob, label) {
  state.image = await loadImage(blob);
  const img = state.image;
  $("image-info").textContent = `${label}: ${img.format ?? "unknown format"}, ${img.width}×${img.height}, ${bytes(img.size)}`;
  $("stage").hidden = false;
  $("compare").style.aspectRatio = img.width && img.height ? `${img.width} / ${img.height}` : "4 / 3";
  $("before").src = img.url;
  $("after").hidden = true;
  $("after").removeAttribute("src");
  $("slider").hidden = true;
  $("divider").hidden = true;
  $("outcome").replaceChildren();
  state.rects = [];
  renderRects();
  updateRunButton();
}

function setupImageInput() {
  const drop = $("drop");
  $("file").addEventListener("change", (ev) => { if (ev.target.files[0]) useImage(ev.target.files[0], ev.target.files[0].name); });
  $("sample").addEventListener("click", async () => useImage(await sampleBlob(), "sample"));
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault(); drop.classList.remove("over");
    const f = ev.dataTransfer.files[0];
    if (f) useImage(f, f.name);
  });
  const slider = $("slider");
  slider.addEventListener("input", () => applySlider());
}

function applySlider() {
  const v = Number($("slider").value);
  $("after").style.clipPath = `inset(0 0 0 ${v}%)`;
  $("divider").style.left = `calc(${v}% - 1px)`;
}

function updateRunButton() {
  const missing = state.op && state.op.params.some((p) => {
    if (!p.required) return false;
    const node = document.querySelector(`[data-param="${p.name}"]`);
    return !(node && node.hidden) && paramValue(p) === null;
  });
  $("run").disabled = !state.image || !state.op || Boolean(missing) || Boolean(state.running);
  $("busy").textContent = !state.image ? "choose an image first" : missing ? "a required parameter is missing" : "";
}

// ---------- limits, as the service checks them ----------

function checkLimits(op, img) {
  const l = op.limits;
  if (!img.size) return { code: 216200, msg: "image is empty" };
  if (!img.format) return { code: 216201, msg: "not a JPEG, PNG or BMP image" };
  if (img.base64.length > l.max_base64_len) {
    return { code: 216202, msg: `base64 is ${bytes(img.base64.length)}, at most ${bytes(l.max_base64_len)}` };
  }
  const { width: w, height: h } = img;
  if (!w || !h) return { code: 216201, msg: "the image cannot be decoded" };
  const shortest = Math.min(w, h), longest = Math.max(w, h);
  if (l.max_pixels && w * h > l.max_pixels) return { code: 216202, msg: `${w}×${h} is over ${l.max_pixels} pixels` };
  if (shortest < l.min_side) return { code: 216202, msg: `shortest side ${shortest} px is under ${l.min_side} px` };
  if (l.max_side && longest > l.max_side) return { code: 216202, msg: `longest side ${longest} px is over ${l.max_side} px` };
  if (l.max_aspect && longest > l.max_aspect * shortest) return { code: 216202, msg: `aspect ${(longest / shortest).toFixed(2)}:1 is over ${l.max_aspect}:1` };
  for (const [name, value, p] of currentParams()) {
    if (p.kind === "rectangles") {
      const bad = value.findIndex((r) => r.width < 1 || r.height < 1 || r.left + r.width > w || r.top + r.height > h);
      if (bad >= 0) return { code: 216100, msg: `rectangle ${bad + 1} is outside the image` };
    }
    if (p.kind === "integer") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < p.min || n > p.max) return { code: 216100, msg: `${name} must be ${p.allowed}` };
    }
  }
  return null;
}

// ---------- sending ----------

async function getToken(force) {
  if (state.token && !force) return state.token;
  const body = new URLSearchParams({ grant_type: "client_credentials", client_id: $("api-key").value, client_secret: $("secret-key").value });
  const r = await fetch("/oauth/2.0/token", { method: "POST", body });
  const json = await r.json();
  if (!json.access_token) {
    $("credentials").open = true;
    throw new Error(`token refused: ${json.error ?? r.status}: ${json.error_description ?? ""}`);
  }
  state.token = json.access_token;
  return state.token;
}

function requestBody(op, img, params) {
  if (op.body === "application/json") {
    const obj = { image: img.base64 };
    for (const [name, value] of params) obj[name] = value;
    return { body: JSON.stringify(obj), type: op.body };
  }
  const parts = [`image=${encodeURIComponent(img.base64)}`];
  for (const [name, value] of params) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return { body: parts.join("&"), type: op.body };
}

function showOutcome(parts, cls) {
  const box = $("outcome");
  box.replaceChildren(el("span", { class: cls, text: cls === "ok" ? "✓ " : "✗ " }), ...parts);
  box.dataset.state = cls;
}

// The emulator answers some errors (a fault, a refused token) before reading the body and
// then closes the connection; a browser still sending may see the reset instead of the
// reply. One more try, as the SDK's retry would.
async function fetchOnceMore(url, options) {
  try { return await fetch(url, options); }
  catch (e) {
    if (!(e instanceof TypeError)) throw e;
    await sleep(50);
    return fetch(url, options);
  }
}

async function run() {
  if (!state.image || !state.op || state.running) return;
  state.running = send(state.op, state.image, currentParams());
  updateRunButton();
  try { return await state.running; } finally { state.running = null; updateRunButton(); }
}

async function send(op, img, params) {
  renderSnippets();
  if ($("check-limits").checked) {
    const refused = checkLimits(op, img);
    if (refused) {
      showOutcome([`error ${refused.code} (${ERROR_MESSAGES[refused.code] ?? "refused"}): ${refused.msg}. Refused in the page; nothing was sent.`], "bad");
      return { error_code: refused.code, local: true };
    }
  }
  $("outcome").replaceChildren("sending…");
  const { body, type } = requestBody(op, img, params);
  let reply, elapsed, received, logId;
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await getToken(attempt > 0);
      const t0 = performance.now();
      const r = await fetchOnceMore(`${op.path}?access_token=${encodeURIComponent(token)}`, { method: "POST", headers: { "Content-Type": type }, body });
      const text = await r.text();
      elapsed = performance.now() - t0;
      received = text.length;
      reply = JSON.parse(text);
      // log_id exceeds 2^53: read its digits from the text, not from the parsed number.
      logId = (text.match(/"log_id"\s*:\s*"?(\d+)/) || [])[1] ?? String(reply.log_id);
      reply.log_id = logId;
      if (reply.error_code !== 110 && reply.error_code !== 111) break; // token gone: fetch a new one once
    }
  } catch (e) {
    showOutcome([`request failed: ${e.message}`], "bad");
    return { error: e.message };
  }
  const timing = `${elapsed.toFixed(0)} ms · sent ${bytes(body.length)} · received ${bytes(received)}`;
  if (reply.error_code) {
    showOutcome([`error ${reply.error_code}: ${reply.error_msg} · log_id `, el("code", { id: "log-id", text: String(reply.log_id) }), ` · ${timing}`], "bad");
    return reply;
  }
  const b64 = reply.image ?? reply.scoremap ?? reply.labelmap;
  if (!b64) {
    showOutcome([`no image in the reply: fields ${Object.keys(reply).join(", ")}`], "bad");
    return reply;
  }
  const after = $("after");
  const loaded = new Promise((resolve) => { after.onload = () => resolve(true); after.onerror = () => resolve(false); });
  after.src = `data:image/${sniff(Uint8Array.from(atob(b64.slice(0, 16)), (c) => c.charCodeAt(0))) ?? "png"};base64,${b64}`;
  after.hidden = false;
  $("slider").hidden = false;
  $("divider").hidden = false;
  applySlider();
  const ok = await loaded;
  const dims = ok ? ` · ${img.width}×${img.height} → ${after.naturalWidth}×${after.naturalHeight}` : " · the result did not decode";
  const shown = reply.image ? "" : reply.scoremap ? " · showing scoremap" : " · showing labelmap";
  showOutcome([`log_id `, el("code", { id: "log-id", text: String(reply.log_id) }), ` · ${timing}${dims}${shown}`], ok ? "ok" : "bad");
  $("stage-hint").textContent = "Drag the line or the slider: left of it is the input, right the result.";
  return { ...reply, loaded: ok, width: after.naturalWidth };
}

// ---------- curl and Rust ----------

function shellQuote(s) { return `'${String(s).replace(/'/g, `'\\''`)}'`; }

function rustParam(op, params) {
  // The facade takes typed parameters; these mirror the wire values.
  const get = (n) => (params.find(([name]) => name === n) || [])[1];
  switch (op.name) {
    case "style_trans": return `Style::${camel(get("option") ?? "cartoon")}`;
    case "selfie_anime": return get("type") === "anime_mask" ? `Some(AnimeMask::new(${get("mask_id") ?? 1})?)` : "None";
    case "inpainting": return `&[${(get("rectangle") || []).map((r) => `Rect::new(${r.left}, ${r.top}, ${r.width}, ${r.height})`).join(", ")}]`;
    case "denoise": return `Strength::new(${get("option") ?? 50})?`;
    case "customize_stylization": return get("style") ? `CustomStyle::Image(std::fs::read("style.jpg")?.into())` : `CustomStyle::Preset(StyleId::new(${get("style_id") ?? 0})?)`;
    default: return null;
  }
}

function camel(s) { return s.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join(""); }

function renderSnippets() {
  const op = state.op;
  if (!op) return;
  const origin = location.origin;
  const params = currentParams();
  const ext = state.image?.format === "png" ? "png" : "jpg";
  const token = `TOKEN=$(curl -s ${shellQuote(`${origin}/oauth/2.0/token`)} -d grant_type=client_credentials \\\n  -d client_id="$BAIDU_API_KEY" -d client_secret="$BAIDU_SECRET_KEY" | jq -r .access_token)`;
  const url = `"${origin}${op.path}?access_token=$TOKEN"`;
  const field = op.reply === "sky_segmentation" ? ".scoremap" : ".image";
  let curl;
  if (op.body === "application/json") {
    const extra = params.map(([n, v]) => `${n}: ${JSON.stringify(v)}`).join(", ");
    curl = `${token}\nbase64 -w0 photo.${ext} > image.b64\njq -n --rawfile image image.b64 '{image: $image${extra ? `, ${extra}` : ""}}' \\\n  | curl -s ${url} -H 'Content-Type: application/json' --data-binary @- \\\n  | jq -r ${field} | base64 -d > result.${ext}`;
  } else {
    const extra = params.map(([n, v, p]) => p.kind === "image" ? ` \\\n  --data-urlencode ${n}@style.b64` : ` \\\n  --data-urlencode ${shellQuote(`${n}=${v}`)}`).join("");
    curl = `${token}\nbase64 -w0 photo.${ext} > image.b64\ncurl -s ${url} \\\n  --data-urlencode image@image.b64${extra} \\\n  | jq -r ${field} | base64 -d > result.${ext}`;
  }
  $("curl").textContent = curl;
  const arg = rustParam(op, params);
  const method = op.name; // the facade's methods are the wire names
  // The facade re-exports the parameter types at its root.
  const types = ["Client", ...["AnimeMask", "CustomStyle", "Strength", "Rect", "Style", "StyleId"]
    .filter((t) => arg && new RegExp(`\\b${t}::`).test(arg))];
  $("rust").textContent =
`use baidu_imageprocess::${types.length > 1 ? `{${types.join(", ")}}` : "Client"};

let client = Client::builder()
    .endpoint("${origin}")
    .api_key(std::env::var("BAIDU_API_KEY")?, std::env::var("BAIDU_SECRET_KEY")?)
    .build()?;
let image = std::fs::read("photo.${ext}")?;
let reply = client.${method}(&image${arg ? `, ${arg}` : ""}).await?;
println!("log_id {}", reply.log_id);
${op.reply === "sky_segmentation"
    ? `// labelmap and scoremap (base64 PNGs) are in reply.fields
println!("{:?}", reply.fields.keys().collect::<Vec<_>>());`
    : `std::fs::write("result.${ext}", &reply.image)?;`}`;
  $("snippets").hidden = false;
}

function setupCopy() {
  for (const b of document.querySelectorAll("[data-copy]")) {
    b.addEventListener("click", async () => {
      const text = $(b.dataset.copy).textContent;
      try { await navigator.clipboard.writeText(text); b.textContent = "copied"; }
      catch (_) {
        const range = document.createRange(); range.selectNodeContents($(b.dataset.copy));
        getSelection().removeAllRanges(); getSelection().addRange(range); b.textContent = "selected";
      }
      setTimeout(() => { b.textContent = "copy"; }, 1500);
    });
  }
}

// ---------- requests ----------

async function pollRequests() {
  const r = await fetch(`/__emulator/requests?since=${state.version}`);
  const view = await r.json();
  state.version = view.version;
  for (const e of view.entries) state.requests.set(e.seq, e);
  const keep = [...state.requests.keys()].sort((a, b) => b - a).slice(0, 200);
  for (const seq of [...state.requests.keys()]) if (!keep.includes(seq)) state.requests.delete(seq);
  $("ring-info").textContent = `${state.requests.size} shown · ring ${bytes(view.bytes)} of ${bytes(view.cap_bytes)} · ${view.dropped} dropped (oldest first) · access tokens and signatures masked`;
  if (view.entries.length) renderRequests();
  return view;
}

function thumb(t) { return t ? el("img", { src: t.data_url, alt: `${t.width}×${t.height}`, title: `${t.width}×${t.height}` }) : "–"; }

function renderRequests() {
  const rows = [...state.requests.values()].sort((a, b) => b.seq - a.seq).map((e) => {
    const ok = e.error_code == null && e.status < 400;
    const result = ok ? `${e.status}` : e.error_code != null ? `${e.error_code} ${e.error_msg ?? ""}` : `${e.status} ${e.error_msg ?? ""}`;
    const row = el("tr", { "data-seq": e.seq, "data-operation": e.operation, "data-log-id": e.log_id ?? "", class: e.seq === state.selected ? "selected" : "" },
      el("td", { text: clock(e.time_ms) }),
      el("td", { text: e.operation }),
      el("td", {}, e.thumbnails === "pending" ? "…" : thumb(e.input)),
      el("td", {}, e.thumbnails === "pending" ? "…" : thumb(e.output)),
      el("td", { class: ok ? "ok" : "bad", text: result.length > 32 ? `${result.slice(0, 32)}…` : result, title: result }),
      el("td", {}, `${e.latency_ms.toFixed(1)} ms`, el("small", { text: `${bytes(e.request_bytes)} → ${bytes(e.response_bytes)}` })));
    row.addEventListener("click", () => { state.selected = e.seq; showDetail(e); renderRequests(); });
    return row;
  });
  $("request-rows").replaceChildren(...rows);
}

function showDetail(e) {
  const shown = { ...e, input: e.input && `${e.input.width}×${e.input.height} thumbnail`, output: e.output && `${e.output.width}×${e.output.height} thumbnail` };
  $("request-detail").textContent = JSON.stringify(shown, null, 2);
  $("request-detail").hidden = false;
}

// ---------- faults and stats ----------

function fillFaults(f) {
  $("f-qps").value = f.qps ?? "";
  $("f-latency").value = f.latency_ms;
  $("f-rate").value = f.fail_rate;
  $("f-rate-out").textContent = f.fail_rate;
  for (const box of document.querySelectorAll("#f-deny input")) box.checked = f.deny.includes(box.value);
}

async function loadFaults() {
  const r = await fetch("/__emulator/faults");
  fillFaults(await r.json());
}

async function postFaults(update) {
  const r = await fetch("/__emulator/faults", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(update) });
  const json = await r.json();
  if (!r.ok) { $("f-status").textContent = json.error; $("f-status").className = "hint error"; return null; }
  fillFaults(json);
  $("f-status").className = "hint";
  $("f-status").textContent = `applied at ${clock(Date.now())}`;
  return json;
}

function faultsFromForm() {
  const qps = $("f-qps").value;
  return {
    qps: qps === "" ? null : Number(qps),
    fail_rate: Number($("f-rate").value),
    latency_ms: Number($("f-latency").value || 0),
    deny: [...document.querySelectorAll("#f-deny input:checked")].map((b) => b.value),
  };
}

function setupFaults() {
  $("f-deny").replaceChildren(...state.ops.map((op) => el("label", {}, el("input", { type: "checkbox", value: op.name }), op.name)));
  $("f-rate").addEventListener("input", () => { $("f-rate-out").textContent = $("f-rate").value; });
  $("faults-form").addEventListener("submit", (ev) => { ev.preventDefault(); postFaults(faultsFromForm()); });
  $("f-reset").addEventListener("click", () => postFaults({ qps: null, fail_rate: 0, latency_ms: 0, deny: [] }));
}

async function pollStats() {
  const r = await fetch("/__emulator/stats");
  const s = await r.json();
  const cells = [["successes", s.successes], ["tokens issued", s.tokens_issued]];
  for (const [k, v] of Object.entries(s.requests)) cells.push([`requests: ${k}`, v]);
  for (const [k, v] of Object.entries(s.errors)) cells.push([`error ${k}`, v]);
  $("stats").replaceChildren(...cells.map(([k, v]) => el("div", { "data-stat": k }, el("b", { text: String(v) }), k)));
  return s;
}

async function poll() {
  if (document.visibilityState !== "hidden") {
    try { await Promise.all([pollRequests(), pollStats()]); } catch (_) { /* the emulator stopped: try again later */ }
  }
  setTimeout(poll, 1000);
}

// ---------- self-test (?selftest=1) ----------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// Draws a rectangle the way a user does: pointer down, move, up on the image.
function dragRect(x0, y0, x1, y1) {
  const layer = $("rects");
  const box = layer.getBoundingClientRect();
  const at = (x, y) => ({ clientX: box.left + (x / state.image.width) * box.width, clientY: box.top + (y / state.image.height) * box.height, pointerId: 1, bubbles: true });
  layer.dispatchEvent(new PointerEvent("pointerdown", at(x0, y0)));
  layer.dispatchEvent(new PointerEvent("pointermove", at((x0 + x1) / 2, (y0 + y1) / 2)));
  layer.dispatchEvent(new PointerEvent("pointerup", at(x1, y1)));
}

async function selfTest() {
  const results = [];
  const check = (name, ok, detail = "") => results.push({ name, ok: Boolean(ok), detail });
  // A step passes only when it returns exactly `true`; a string it returns says why not.
  const attempt = async (name, fn) => {
    try { const r = await fn(); check(name, r === true, typeof r === "string" ? r : JSON.stringify(r)); }
    catch (e) { check(name, false, e.message); }
  };
  // The click handler starts the request synchronously: take its promise at once (a
  // refusal in the page settles before any timer could run).
  const clickRun = async () => { $("run").click(); const running = state.running; return running ? await running : null; };

  await attempt("the operation table lists fifteen operations with limits", () =>
    state.ops.length === 15 && state.ops.every((op) => op.path.startsWith("/rest/2.0/image-process/v1/") && op.limits.max_base64_len > 0));
  await attempt("every parameter has a control", () =>
    state.ops.every((op) => op.params.every((p) => ["choice", "integer", "rectangles", "image"].includes(p.kind))));
  await postFaults({ qps: null, fail_rate: 0, latency_ms: 0, deny: [] });
  await attempt("a sample image loads", async () => { $("sample").click(); await until("the sample", () => state.image && state.image.width === 320); return true; });

  // dehaze first, while the thumbnail budget is fresh.
  let dehazeLogId = null;
  await attempt("dehaze returns a result image", async () => {
    selectOperation("dehaze");
    const r = await clickRun();
    dehazeLogId = r && r.log_id != null ? String(r.log_id) : null;
    return Boolean(r && r.loaded && $("after").naturalWidth > 0 && $("log-id").textContent === dehazeLogId) || JSON.stringify(r);
  });
  await attempt("the request appears with its thumbnails, token masked", async () => {
    const entry = await until("the dehaze entry", async () => {
      await pollRequests();
      const e = [...state.requests.values()].find((x) => x.log_id === dehazeLogId);
      return e && e.thumbnails !== "pending" ? e : null;
    });
    await until("the row", () => document.querySelector(`tr[data-log-id="${dehazeLogId}"]`));
    const text = JSON.stringify(entry);
    return (entry.operation === "dehaze" && Boolean(entry.output && entry.input) && !text.includes(state.token)
      && entry.query.includes("access_token=<masked>")) || text.slice(0, 300);
  });

  // Every operation, with its parameters as the controls set them.
  for (const op of state.ops) {
    if (op.name === "dehaze") continue;
    await attempt(`${op.name} returns a result image`, async () => {
      selectOperation(op.name);
      if (op.params.some((p) => p.kind === "rectangles")) {
        dragRect(40, 30, 120, 90);
        if (state.rects.length !== 1 || state.rects[0].left !== 40 || state.rects[0].width !== 80) return `drawn ${JSON.stringify(state.rects)}`;
      }
      const r = await clickRun();
      return Boolean(r && r.loaded) || JSON.stringify(r).slice(0, 200);
    });
  }

  await attempt("limits are checked in the page as the service checks them", async () => {
    await useImage(await sampleBlob(900, 240), "wide sample");
    selectOperation("colourize");
    // The newest request's seq (the ring's version also moves when thumbnails land).
    const newest = async () => { await pollRequests(); return Math.max(0, ...state.requests.keys()); };
    const before = await newest();
    const r = await clickRun();
    const after = await newest();
    const refused = r && r.local && r.error_code === 216202 && $("outcome").dataset.state === "bad";
    $("check-limits").checked = false;
    const server = await clickRun();
    $("check-limits").checked = true;
    return Boolean(refused && before === after && server && server.error_code === 216202) || JSON.stringify([r, server, before, after]);
  });
  await useImage(await sampleBlob(), "sample");

  await attempt("a denied operation answers error 6 after the fault is applied from the form", async () => {
    const box = document.querySelector('#f-deny input[value="dehaze"]');
    box.checked = true;
    $("f-apply").click();
    await until("the fault", async () => (await (await fetch("/__emulator/faults")).json()).deny.includes("dehaze"));
    selectOperation("dehaze");
    const r = await clickRun();
    const stats = await pollStats();
    return Boolean(r && r.error_code === 6 && stats.errors["6"] >= 1 && document.querySelector('[data-stat="error 6"]')) || JSON.stringify(r);
  });
  await attempt("fail-rate 1 fails every request with 1, 2 or 282000", async () => {
    await postFaults({ deny: [], fail_rate: 1 });
    const r = await clickRun();
    return Boolean(r && [1, 2, 282000].includes(r.error_code)) || JSON.stringify(r);
  });
  await attempt("clearing the faults serves again", async () => {
    $("f-reset").click();
    await until("the reset", async () => (await (await fetch("/__emulator/faults")).json()).fail_rate === 0);
    const r = await clickRun();
    return Boolean(r && r.loaded) || JSON.stringify(r);
  });
  await attempt("a bad fault is refused and changes nothing", async () => {
    const r = await fetch("/__emulator/faults", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"fail_rate": 2}' });
    const now = await (await fetch("/__emulator/faults")).json();
    return r.status === 400 && now.fail_rate === 0;
  });
  await attempt("the curl command and the Rust call are shown", () =>
    $("curl").textContent.includes(state.op.path) && $("rust").textContent.includes("Client::builder()"));

  const failed = results.filter((r) => !r.ok);
  const line = $("selftest");
  line.hidden = false;
  line.textContent = `${results.length - failed.length} passed, ${failed.length} failed`;
  line.className = failed.length ? "failed" : "passed";
  const list = $("selftest-failures");
  list.hidden = failed.length === 0;
  list.replaceChildren(...failed.map((f) => el("li", { text: `${f.name}: ${f.detail}` })));
}

// ---------- start ----------

async function main() {
  setupImageInput();
  setupDrawing();
  setupCopy();
  $("run").addEventListener("click", () => run());
  await loadOperations();
  setupFaults();
  await loadFaults();
  poll();
  const query = new URLSearchParams(location.search);
  if (query.get("selftest") === "1") {
    try { await selfTest(); } catch (e) { $("selftest").hidden = false; $("selftest").textContent = `0 passed, 1 failed`; $("selftest-failures").hidden = false; $("selftest-failures").textContent = e.message; }
  } else if (query.get("demo") === "1") {
    await useImage(await sampleBlob(), "sample");
    selectOperation(query.get("op") || "dehaze");
    await run();
  }
}

main().catch((e) => { $("outcome").textContent = `console failed to start: ${e.message}`; });
