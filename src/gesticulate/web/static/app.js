// gesticulate web page: pick speech (file, recording or text) and a photo, submit a job,
// follow its progress, then preview and download the outputs. No framework; no inline code
// (the server's Content-Security-Policy allows only this file).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { mode: "file", config: null, recording: null, recorder: null, job: null,
                timer: null, ended: false };
const MB = 1e6;

function show(el, on) { el.hidden = !on; }
function fmtBytes(n) { return n < MB ? `${Math.max(1, Math.round(n / 1e3))} kB` : `${(n / MB).toFixed(n < 10 * MB ? 1 : 0)} MB`; }

function showError(box, message) {
  // server messages start in lower case (they also read well after "error: " in the CLI)
  box.textContent = message ? message[0].toUpperCase() + message.slice(1) : "";
  show(box, Boolean(message));
}

async function loadConfig() {
  const r = await fetch("/api/config");
  const cfg = await r.json();
  state.config = cfg;
  const motion = $("motion");
  for (const name of Object.keys(cfg.motions)) motion.add(new Option(name, name));
  fillStyles();
  const sizes = [96, 128, 256, 384, 512, 768, 1024, 1536, 2048].filter((s) => s <= cfg.max_size);
  for (const s of sizes) $("size").add(new Option(`${s} px`, s, false, s === 512));
  $("text-max").textContent = cfg.max_text_chars;
  $("speech-text").maxLength = cfg.max_text_chars;
  $("audio-hint").textContent = `wav, flac, ogg, mp3, m4a or webm · up to ${fmtBytes(cfg.max_audio_bytes)} and ${Math.round(cfg.max_audio_s)} s`;
  $("image-hint").textContent = `JPEG, PNG, WebP, BMP or TIFF · up to ${fmtBytes(cfg.max_image_bytes)} · head and shoulders or upper body, one person`;
}

function fillStyles() {
  const styles = state.config.motions[$("motion").value] || [];
  const sel = $("style");
  sel.innerHTML = "";
  if (!styles.length) sel.add(new Option("default", ""));
  for (const s of styles) sel.add(new Option(s, s, false, s === "auto"));
  sel.disabled = !styles.length;
  show($("hands-first-label"), $("motion").value === "diffusion");
}

function setMode(mode) {
  state.mode = mode;
  for (const tab of document.querySelectorAll(".tab")) {
    const on = tab.dataset.mode === mode;
    tab.classList.toggle("active", on);
    tab.setAttribute("aria-selected", String(on));
  }
  for (const pane of document.querySelectorAll(".mode")) show(pane, pane.dataset.mode === mode);
  refreshAudioPreview();
}

function refreshAudioPreview() {
  const player = $("audio-preview");
  let blob = null;
  if (state.mode === "file") blob = $("audio-file").files[0] || null;
  if (state.mode === "record") blob = state.recording;
  if (player.dataset.url) URL.revokeObjectURL(player.dataset.url);
  if (blob) { player.dataset.url = URL.createObjectURL(blob); player.src = player.dataset.url; }
  else { player.removeAttribute("src"); delete player.dataset.url; }
  show(player, Boolean(blob));
}

// -- recording (MediaRecorder) ------------------------------------------------------------
async function toggleRecording() {
  const btn = $("record-btn");
  if (state.recorder) { state.recorder.stop(); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    $("record-state").textContent = `The microphone is not available (${e.name}). Allow it in the browser, or upload a file instead.`;
    return;
  }
  const chunks = [];
  const rec = new MediaRecorder(stream);
  const t0 = Date.now();
  const tick = setInterval(() => {
    const s = Math.floor((Date.now() - t0) / 1000);
    $("record-time").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    if (s >= state.config.max_audio_s) rec.stop();
  }, 250);
  rec.ondataavailable = (ev) => { if (ev.data.size) chunks.push(ev.data); };
  rec.onstop = () => {
    clearInterval(tick);
    stream.getTracks().forEach((t) => t.stop());
    state.recorder = null;
    state.recording = new Blob(chunks, { type: rec.mimeType || "audio/webm" });
    btn.textContent = "● Record again";
    btn.classList.remove("recording");
    $("record-state").textContent = `Recorded ${fmtBytes(state.recording.size)}.`;
    refreshAudioPreview();
  };
  state.recorder = rec;
  rec.start(250);
  btn.textContent = "■ Stop";
  btn.classList.add("recording");
  $("record-state").textContent = "Recording… speak now.";
}

// -- checks before sending (the server checks everything again) ----------------------------
function speechPart(fd) {
  const cfg = state.config;
  if (state.mode === "text") {
    const text = $("speech-text").value.trim();
    if (!text) return "Type what the person should say.";
    fd.append("text", text);
    return null;
  }
  const blob = state.mode === "file" ? $("audio-file").files[0] : state.recording;
  if (!blob) return state.mode === "file" ? "Choose an audio file with speech." : "Record some speech first.";
  if (blob.size > cfg.max_audio_bytes) {
    return `The audio file is ${fmtBytes(blob.size)}; the limit is ${fmtBytes(cfg.max_audio_bytes)}. Trim it or save it compressed (mp3, ogg).`;
  }
  const ext = (blob.type || "").includes("mp4") ? "m4a" : "webm";
  fd.append("audio", blob, blob.name || `recording.${ext}`);
  return null;
}

function buildForm() {
  const fd = new FormData();
  const problem = speechPart(fd);
  if (problem) return [null, problem];
  const photo = $("image-file").files[0];
  if (!photo) return [null, "Choose a photo of the person."];
  if (photo.size > state.config.max_image_bytes) {
    return [null, `The photo is ${fmtBytes(photo.size)}; the limit is ${fmtBytes(state.config.max_image_bytes)}. Save it as a JPEG or make it smaller.`];
  }
  fd.append("image", photo, photo.name);
  for (const id of ["motion", "style", "renderer", "size", "seed", "speed", "fps"]) fd.append(id, $(id).value);
  for (const id of ["phones", "smooth", "hands_first"]) fd.append(id, $(id).checked ? "1" : "0");
  return [fd, null];
}

// -- the job -------------------------------------------------------------------------------
async function submit(ev) {
  ev.preventDefault();
  showError($("form-error"), "");
  const [fd, problem] = buildForm();
  if (problem) { showError($("form-error"), problem); return; }
  resetResult();
  $("generate").disabled = true;
  $("generate").textContent = "Uploading…";
  let r, body;
  try {
    r = await fetch("/api/jobs", { method: "POST", body: fd });
    body = await r.json().catch(() => ({}));
  } catch (e) {
    body = { error: `Could not reach the server (${e.message}). Is it still running?` };
  }
  $("generate").textContent = "Generate video";
  if (!r || !r.ok) {
    $("generate").disabled = false;
    const fallback = r && r.status === 413 ? "The upload is too large for this server." : `The server refused the job (HTTP ${r ? r.status : "?"}).`;
    showError($("form-error"), body.error || fallback);
    show($("idle"), true);
    return;
  }
  state.job = body.id;
  state.ended = false;
  show($("cancel"), true);
  render(body);
  serverState();
  poll();
}

function resetResult() {
  for (const id of ["status", "job-error", "overlay-fig", "video", "downloads", "idle"]) show($(id), false);
  $("video").removeAttribute("src");
  $("progress").value = 0;
}

async function poll() {
  if (!state.job || state.ended) return;
  try {
    const r = await fetch(`/api/jobs/${state.job}`, { cache: "no-store" });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
    render(body);
  } catch (e) {
    $("status-line").textContent = `Lost contact with the server (${e.message}); retrying…`;
  }
  if (!state.ended) state.timer = setTimeout(poll, 600);
}

function render(s) {
  show($("status"), true);
  const line = $("status-line");
  if (s.state === "queued") {
    line.textContent = s.position === 1 ? "Waiting for a free worker — you are next in line."
      : `Waiting in line: ${s.position - 1} job${s.position - 1 === 1 ? "" : "s"} ahead of yours.`;
  } else if (s.state === "running") {
    line.textContent = `${s.stage_text[0].toUpperCase()}${s.stage_text.slice(1)}…`;
  } else if (s.state === "done") {
    line.textContent = `Done in ${s.elapsed_s.toFixed(1)} s.`;
  } else {
    line.textContent = s.state === "cancelled" ? "Cancelled." : "The job failed.";
  }
  line.dataset.state = s.state;
  $("status").dataset.state = s.state;
  $("progress").value = s.progress;
  $("progress-pct").textContent = `${Math.round(s.progress * 100)} %`;
  $("elapsed").textContent = `${s.elapsed_s.toFixed(0)} s`;
  if (["done", "failed", "cancelled"].includes(s.state)) finish(s);
}

function finish(s) {
  state.ended = true;
  clearTimeout(state.timer);
  show($("cancel"), false);
  $("generate").disabled = false;
  serverState();
  if (s.state !== "done") {
    showError($("job-error"), s.error || "The job did not finish.");
    return;
  }
  const base = `/api/jobs/${s.id}/files`;
  if (s.outputs.includes("overlay.png")) { $("overlay").src = `${base}/overlay.png`; show($("overlay-fig"), true); }
  $("video").src = `${base}/video.mp4`;
  show($("video"), true);
  const links = { "dl-video": "video.mp4", "dl-motion": "motion.npz", "dl-pose": "pose.mp4", "dl-openpose": "openpose.zip" };
  for (const [id, name] of Object.entries(links)) {
    const a = $(id);
    a.href = `${base}/${name}?download=1`;
    show(a.parentElement, s.outputs.includes(name));
  }
  show($("downloads"), true);
}

async function cancel() {
  if (!state.job || state.ended) return;
  await fetch(`/api/jobs/${state.job}/cancel`, { method: "POST" }).catch(() => {});
}

async function serverState() {
  try {
    const h = await (await fetch("/api/health")).json();
    $("server-state").textContent = `${h.workers_ready} of ${h.workers} worker${h.workers === 1 ? "" : "s"} ready · ${h.running} running · ${h.queued} waiting`;
  } catch (e) {
    $("server-state").textContent = "Server not reachable.";
  }
}

function init() {
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => setMode(tab.dataset.mode));
  $("audio-file").addEventListener("change", () => {
    const f = $("audio-file").files[0];
    $("audio-name").textContent = f ? `${f.name} · ${fmtBytes(f.size)}` : "Choose an audio file with speech";
    refreshAudioPreview();
  });
  $("image-file").addEventListener("change", () => {
    const f = $("image-file").files[0];
    const img = $("image-preview");
    if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
    if (f) { img.dataset.url = URL.createObjectURL(f); img.src = img.dataset.url; }
    show(img, Boolean(f));
    $("image-name").textContent = f ? `${f.name} · ${fmtBytes(f.size)}` : "Choose a photo of one person";
  });
  $("speech-text").addEventListener("input", () => { $("text-count").textContent = $("speech-text").value.length; });
  $("record-btn").addEventListener("click", toggleRecording);
  $("motion").addEventListener("change", fillStyles);
  $("speed").addEventListener("input", () => { $("speed-out").textContent = `${Number($("speed").value).toFixed(2)}×`; });
  $("dice").addEventListener("click", () => { $("seed").value = Math.floor(Math.random() * 100000); });
  $("job-form").addEventListener("submit", submit);
  $("cancel").addEventListener("click", cancel);
  // A closed tab cancels its job at once (the server also cancels jobs nobody polls).
  window.addEventListener("pagehide", () => {
    if (state.job && !state.ended) navigator.sendBeacon(`/api/jobs/${state.job}/cancel`);
  });
  loadConfig().catch((e) => showError($("form-error"), `Could not load the settings from the server (${e.message}); reload the page.`));
  serverState();
  setInterval(serverState, 5000);
}

document.addEventListener("DOMContentLoaded", init);
