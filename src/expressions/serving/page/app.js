// The page of `expressions serve`: a photo (chosen, dropped or filmed) goes to POST /predict, and
// each face in the answer becomes a box over the picture and a card with a bar per class.
// Plain DOM, no library: the server sends every file this page uses, so it works offline.
"use strict";

// webcam: the next frame goes as soon as the last answer is back (one request in flight, at the
// server's pace); the frames/s shown are those of the last PACE_OF answers
const PACE_OF = 10;
const PALETTE = ["#d9480f", "#2563eb", "#16a34a", "#7c3aed", "#db2777", "#0891b2", "#ca8a04"];

const $ = (id) => document.getElementById(id);
const stage = $("stage"), photo = $("photo"), video = $("video"), boxes = $("boxes");
const faces = $("faces"), message = $("message"), webcamButton = $("webcam");
let classes = [], limits = { max_bytes: Infinity }, camera = null, latest = 0, updates = 0;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const megabytes = (n) => String(Number((n / 1e6).toPrecision(3))) + " MB";
const percent = (p) => (100 * p).toFixed(0) + "%";
const colour = (name) => PALETTE[Math.max(0, classes.indexOf(name)) % PALETTE.length];

function say(text, isError = false) {
  message.textContent = text;
  message.className = isError ? "error" : "";
}

async function loadModel() {
  try {
    const info = await (await fetch("/health")).json();
    classes = info.classes;
    limits = info.limits;
    $("model-name").textContent = info.variant ? `${info.name} (variant ${info.variant})` : info.name;
    $("model-classes").textContent = classes.join(", ");
    $("model-accuracy").textContent = info.accuracy === null
      ? "not known (no model card beside the model)"
      : `${info.accuracy.toFixed(3)} on the test split` +
        (info.test_images ? ` (${info.test_images} images, Table 2 of the model card)` : "");
    $("model-speed").textContent = info.speed || "not measured (no speed in the model card)";
    $("model-why").textContent = info.why || "";
    $("model-warning").textContent = info.warning || "";
    $("model-warning").hidden = !info.warning;
  } catch (error) {
    say(`The server did not describe its model (${error}).`, true);
  }
}

// One picture to the server: {rows} or {error} (a sentence), never a thrown error. A webcam
// frame names its session: the server follows each person from frame to frame (track ids).
async function send(blob, name, session) {
  const form = new FormData();
  form.append("image", blob, name);
  if (session) form.append("session", session);
  try {
    const answer = await fetch("/predict", { method: "POST", body: form });
    const body = await answer.json();
    return answer.ok ? { rows: body.rows } : { error: body.error };
  } catch (error) {
    return { error: `The server did not answer (${error.message}).` };
  }
}

// A face is numbered in its picture; on the webcam, a person keeps their track id.
const who = (row, face = "", person = "#") =>
  row.track === null || row.track === undefined ? `${face}${row.face + 1}` : `${person}${row.track}`;

function bars(row) {
  const card = element("li", "face");
  card.style.setProperty("--colour", colour(row.predicted));
  card.append(element("h2", null, `${who(row, "Face ", "Person ")}: ${row.predicted}`));
  for (const name of classes) {
    const p = row[`p_${name}`];
    const bar = element("div", "bar");
    const track = element("div", "track");
    const fill = element("div", "fill");
    fill.style.width = percent(p);
    fill.style.setProperty("--colour", colour(name));
    track.append(fill);
    bar.append(element("span", "name", name), track, element("span", "value", percent(p)));
    bar.dataset.class = name;
    card.append(bar);
  }
  return card;
}

// Boxes are placed in percent of the picture's natural size, and #boxes has the size the picture
// is shown at (style.css), so they stay on the faces however it is scaled, even on resizes.
function show(result, width, height, live, pace = "") {
  boxes.replaceChildren();
  faces.replaceChildren();
  if (result.error) {
    if (!live) stage.hidden = true;
    say(result.error, true);
    return;
  }
  const found = result.rows.filter((row) => row.face !== null);
  for (const row of found) {
    const box = element("div", "face-box");
    Object.assign(box.style, {
      left: `${(100 * row.x) / width}%`, top: `${(100 * row.y) / height}%`,
      width: `${(100 * row.w) / width}%`, height: `${(100 * row.h) / height}%`,
    });
    box.style.setProperty("--colour", colour(row.predicted));
    box.dataset.class = row.predicted;
    // a box in the right half carries its label from its right edge, so it stays on the photo
    if (row.x + row.w / 2 > width / 2) box.classList.add("tag-right");
    const p = row[`p_${row.predicted}`];
    box.append(element("span", "face-tag", `${who(row)} ${row.predicted} ${percent(p)}`));
    if (row.track !== null && row.track !== undefined) box.dataset.track = String(row.track);
    boxes.append(box);
    faces.append(bars(row));
  }
  stage.hidden = false;
  stage.dataset.updates = String(++updates);
  if (found.length === 0) say((live ? "No face in view." : "No face found in this photo.") + pace);
  else say(`${found.length} face${found.length > 1 ? "s" : ""} found.${pace}`);
}

async function analysePhoto(file) {
  stopWebcam();
  $("people").hidden = true;
  latest++; // whatever photo was on its way, this one replaces it
  if (file.size > limits.max_bytes) { // the server would refuse it: do not send it at all
    const limit = megabytes(limits.max_bytes);
    show({ error: `${file.name} is ${megabytes(file.size)}, over this server's limit of ${limit}.` });
    return;
  }
  const ticket = latest; // a later photo's answer wins over an earlier one's
  say(`Looking for faces in ${file.name}…`);
  if (photo.src.startsWith("blob:")) URL.revokeObjectURL(photo.src); // the previous photo's
  photo.src = URL.createObjectURL(file);
  photo.hidden = false;
  video.hidden = true;
  const [result] = await Promise.all([send(file, file.name), photo.decode().catch(() => null)]);
  if (ticket !== latest) return;
  show(result, photo.naturalWidth, photo.naturalHeight, false);
}

const VIDEO = /\.(mp4|avi|mov|webm|mkv)$/i;
const isVideo = (file) => file.type.startsWith("video/") || VIDEO.test(file.name);

// A video goes to POST /video: each person's summary in a table, their probabilities over time
// as one small chart each (SVG polylines; no library).
async function analyseVideo(file) {
  stopWebcam();
  const ticket = ++latest;
  stage.hidden = true;
  $("people").hidden = true;
  if (file.size > limits.video_bytes) {
    say(`${file.name} is ${megabytes(file.size)}, over this server's limit of ${megabytes(limits.video_bytes)}.`, true);
    return;
  }
  say(`Following the faces in ${file.name}…`);
  const form = new FormData();
  form.append("video", file, file.name);
  let body;
  try {
    const answer = await fetch("/video", { method: "POST", body: form });
    body = await answer.json();
    if (!answer.ok) body = { error: body.error };
  } catch (error) {
    body = { error: `The server did not answer (${error.message}).` };
  }
  if (ticket !== latest) return;
  if (body.error) { say(body.error, true); return; }
  showPeople(body);
}

function showPeople(body) {
  const rows = $("tracks").querySelector("tbody");
  rows.replaceChildren();
  $("timelines").replaceChildren();
  for (const t of body.tracks) {
    const share = classes.map((c) => [c, t[`share_${c}`]]).filter(([, v]) => v > 0)
      .map(([c, v]) => `${c} ${percent(v)}`).join(", ");
    const row = element("tr");
    for (const text of [`#${t.track}`, `${t.first_s}-${t.last_s} s`, String(t.frames), t.mostly, share]) {
      row.append(element("td", null, text));
    }
    rows.append(row);
    $("timelines").append(timeline(t.track, body.rows.filter((r) => r.track === t.track), body.seconds));
  }
  $("people").hidden = false;
  const sampled = body.every > 1 ? ` (every ${body.every}th frame)` : "";
  const n = body.tracks.length;
  say(n ? `${n} ${n > 1 ? "people" : "person"} followed in ${body.source}${sampled}.` : `No face in ${body.source}.`);
}

function timeline(track, rows, seconds) {
  const box = element("div", "timeline");
  box.dataset.track = String(track);
  box.append(element("h3", null, `#${track}`));
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 1000 100");
  svg.setAttribute("preserveAspectRatio", "none");
  for (const name of classes) {
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    const points = rows.map((r) => `${(1000 * r.time_s) / Math.max(seconds, 1e-9)},${100 - 100 * r[`p_${name}`]}`);
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", colour(name));
    line.setAttribute("stroke-width", "2");
    line.setAttribute("vector-effect", "non-scaling-stroke");
    line.dataset.class = name;
    svg.append(line);
  }
  const legend = element("div", "legend");
  for (const name of classes) {
    const key = element("span", null, name);
    key.style.setProperty("--colour", colour(name));
    legend.append(key);
  }
  box.append(svg, legend);
  return box;
}

async function startWebcam() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    const session = Math.random().toString(36).slice(2) + Date.now().toString(36);
    camera = { stream, session, canvas: document.createElement("canvas"), answered: [] };
  } catch (error) {
    say(`The webcam could not be opened (${error.name}: ${error.message}).`, true);
    return;
  }
  latest++; // an answer for a photo sent before is no longer wanted
  $("people").hidden = true;
  webcamButton.textContent = "Stop the webcam";
  webcamButton.classList.add("on");
  photo.hidden = true;
  video.hidden = false;
  stage.hidden = false;
  video.srcObject = camera.stream;
  await video.play();
  say("Sending webcam frames…");
  filming(camera);
}

async function filming(session) {
  const context = session.canvas.getContext("2d");
  while (camera === session) {
    if (video.videoWidth > 0) {
      const { canvas } = session;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", 0.85));
      const result = await send(blob, "webcam.jpg", session.session);
      if (camera !== session) return;
      session.answered = [...session.answered, performance.now()].slice(-PACE_OF);
      show(result, canvas.width, canvas.height, true, pace(session.answered));
    }
    await new Promise((done) => setTimeout(done, 0)); // the page draws, then the next frame goes
  }
}

// " 6.2 frames/s" over the answers' times (ms), once there are two
function pace(times) {
  if (times.length < 2) return "";
  const rate = (1000 * (times.length - 1)) / (times[times.length - 1] - times[0]);
  return ` ${rate.toFixed(1)} frames/s`;
}

function stopWebcam() {
  if (!camera) return;
  camera.stream.getTracks().forEach((track) => track.stop());
  camera = null;
  video.srcObject = null;
  webcamButton.textContent = "Use the webcam";
  webcamButton.classList.remove("on");
}

const analyse = (file) => (isVideo(file) ? analyseVideo(file) : analysePhoto(file));
$("file").addEventListener("change", (event) => {
  if (event.target.files.length) analyse(event.target.files[0]);
});
webcamButton.addEventListener("click", () => (camera ? stopWebcam() : startWebcam()));
// A photo dropped anywhere on the page is analysed (not opened by the browser in its place).
const drop = $("drop");
document.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
document.addEventListener("dragleave", () => drop.classList.remove("over"));
document.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  if (event.dataTransfer.files.length) analyse(event.dataTransfer.files[0]);
});

loadModel();
