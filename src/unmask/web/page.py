"""The single page served at ``/``: inline CSS and JavaScript, no external requests (the page must
work on an offline machine). It posts the photo to ``api/unmask`` and shows the answer."""

from __future__ import annotations

_PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>unmask: rebuild the face under a mask</title>
<style>
:root{--bg:#f4f5f7;--card:#fff;--ink:#1b2130;--muted:#5f6b7e;--line:#e2e5ea;--accent:#5b3fd1;
--soft:#f1eefd;--err:#b42318;--errbg:#fef3f2}
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:var(--bg);color:var(--ink)}
header{background:var(--card);border-bottom:1px solid var(--line)}
.wrap{max-width:1180px;margin:0 auto;padding:18px 24px}
h1{margin:0;font-size:24px;letter-spacing:-.02em}h1 span{color:var(--accent)}
h2{font-size:16px;margin:20px 0 6px}
.sub{margin:2px 0 0;color:var(--muted)}
.note{margin:14px 0 0;padding:9px 14px;border-left:4px solid #f79009;background:#fffaeb;
border-radius:6px;color:#7a2e0e;font-size:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 20px;
margin-top:18px}
form{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-end}
.drop{flex:1 1 360px;position:relative;border:2px dashed #c5cad4;border-radius:10px;padding:16px;
text-align:center;cursor:pointer;color:var(--muted)}
.drop:hover,.drop.over{border-color:var(--accent);background:var(--soft)}
.drop strong{color:var(--accent)}
.vh{position:absolute;width:1px;height:1px;opacity:0;overflow:hidden}
label.sel{display:flex;flex-direction:column;gap:3px;font-size:13px;color:var(--muted)}
select,input,button,.btn{font:inherit;padding:9px 16px;border-radius:8px;
border:1px solid var(--line);background:#fff;color:var(--ink)}
button{background:var(--accent);border-color:var(--accent);color:#fff;cursor:pointer}
button:disabled{opacity:.45;cursor:default}
.limits{font-size:13px;color:var(--muted);margin-top:10px}
#status{margin-top:12px;color:var(--muted)}
.spin{display:inline-block;width:14px;height:14px;margin-right:8px;vertical-align:-2px;
border:2px solid var(--line);border-top-color:var(--accent);border-radius:50%;
animation:r .8s linear infinite}@keyframes r{to{transform:rotate(360deg)}}
#error{margin-top:14px;padding:10px 14px;border-radius:8px;background:var(--errbg);color:var(--err);
border:1px solid #fecdca}
.panels{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:14px}
figure{margin:0}
figure img{display:block;width:100%;height:auto;border-radius:8px;border:1px solid var(--line);
background:#eceef2}
figcaption{font-size:13px;color:var(--muted);margin-top:6px}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin:0 4px 0 2px}
.actions{display:flex;flex-wrap:wrap;gap:10px;margin-top:16px}
a.btn{text-decoration:none}a.primary{background:var(--accent);border-color:var(--accent);color:#fff}
table{border-collapse:collapse;width:100%;font-size:14px}.scroll{overflow-x:auto}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600}
.tag{display:inline-block;padding:0 9px;border-radius:999px;font-size:12px;font-weight:600}
.yes{background:var(--soft);color:var(--accent)}.no{background:#eef0f3;color:var(--muted)}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:12px}footer a{color:inherit}
@media (max-width:760px){.panels{grid-template-columns:1fr}}
</style>
</head>
<body>
<header><div class="wrap">
<h1>un<span>mask</span></h1>
<p class="sub">Upload a photo of a person wearing a face mask: unmask finds the mask and rebuilds
the part of the face it hides.</p>
<p class="note" id="note"><strong>A synthesis, not the real face.</strong> The rebuilt face is a
plausible guess made by a model from the visible part of the face. It is not the person's real
face and must not be used to identify anyone.</p>
</div></header>
<main class="wrap">
<section class="card">
<form id="form">
<label class="drop" id="drop"><input class="vh" type="file" id="file" name="image"
accept="image/*,video/*"><strong>Choose a photo or a short clip</strong> or drop it here<br>
<span id="fname">no file chosen</span></label>
<label class="sel">Gender of the rebuilt face
<select id="gender" name="gender"><option value="">Auto (predicted)</option>
<option value="female">Female</option><option value="male">Male</option></select></label>
<label class="sel" id="token-box" hidden>Access token
<input id="token" type="password" autocomplete="off" placeholder="from the server's operator">
</label>
<button id="go" type="submit" disabled>Unmask</button>
</form>
<div class="limits">JPEG, PNG, WebP, BMP, TIFF and more, up to __MAX_UPLOAD_MB__ MB and
__MAX_MEGAPIXELS__ megapixels; clips (MP4, MOV, WebM, AVI, MKV, GIF) up to 20 MB and 15 s.
The photo is processed by this computer and goes nowhere else.</div>
<div id="status" role="status" hidden><span class="spin"></span>Rebuilding, please wait…</div>
<div id="error" role="alert" hidden></div>
</section>
<section class="card" id="clip" hidden>
<video id="clip-video" controls playsinline style="max-width:100%"></video>
<div class="actions"><a class="btn primary" id="dl-clip">Download result (MP4)</a></div>
</section>
<section class="card" id="result" hidden>
<div class="panels">
<figure><img id="img-original" alt="the uploaded photo"><figcaption>Original</figcaption></figure>
<figure><img id="img-overlay" alt="detected mask and landmarks"><figcaption>Detected mask
and landmarks (<span class="dot" style="background:#28ff28"></span>visible,
<span class="dot" style="background:#ff2828"></span>hidden)</figcaption></figure>
<figure><img id="img-restored" alt="the photo with the face rebuilt">
<figcaption>Result: a synthesis, not the real face</figcaption></figure>
</div>
<div class="actions"><a class="btn primary" id="dl-restored">Download result (PNG)</a>
<a class="btn" id="dl-compare">Comparison sheet (PNG)</a><a class="btn" id="dl-mask">Mask (PNG)</a>
</div>
<h2>Faces</h2>
<p id="summary" class="muted"></p>
<div class="scroll"><table id="faces"><thead><tr><th>#</th><th>Gender (confidence)</th>
<th>Masked</th><th>Mask coverage</th><th>Detector score</th><th>Time</th></tr></thead>
<tbody></tbody></table></div>
</section>
</main>
<footer class="wrap">unmask __VERSION__ · runs locally · <a href="api/health">health</a></footer>
<script>
(() => {
  "use strict";
  const MAX_MB = __MAX_UPLOAD_MB__, MB = 1048576, NEEDS_TOKEN = __TOKEN_REQUIRED__;
  const $ = (id) => document.getElementById(id);
  const KEY = "unmask-token";
  if (NEEDS_TOKEN) {  // kept for this tab only, sent as "Authorization: Bearer ..."
    $("token-box").hidden = false;
    $("token").value = sessionStorage.getItem(KEY) || "";
    $("token").addEventListener("change", () => sessionStorage.setItem(KEY, $("token").value));
  }
  let file = null, busy = false, urls = [];
  const pct = (x) => (100 * x).toFixed(x < 0.1 ? 1 : 0) + "%";
  const human = (n) => n < MB ? `${Math.max(1, Math.round(n / 1024))} KB`
                              : `${(n / MB).toFixed(1)} MB`;
  const showError = (msg) => { $("error").textContent = msg || ""; $("error").hidden = !msg; };
  function setBusy(on) {
    busy = on; $("status").hidden = !on; $("go").disabled = on || !file;
  }
  function blobUrl(b64) {
    const bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const url = URL.createObjectURL(new Blob([bytes], {type: "image/png"}));
    urls.push(url);
    return url;
  }
  function choose(f) {
    if (!f) return;
    file = f;
    $("fname").textContent = `${f.name} (${human(f.size)})`;
    run();
  }
  async function run() {
    if (!file || busy) return;
    showError("");
    const isClip = file.type.startsWith("video/"), limit = isClip ? 20 : MAX_MB;
    if (file.size > limit * MB) {
      showError(`"${file.name}" is ${human(file.size)}; the limit is ${limit} MB.` +
                " Please choose a smaller file.");
      return;
    }
    const form = new FormData();
    form.append(isClip ? "video" : "image", file, file.name);
    if ($("gender").value) form.append("gender", $("gender").value);
    setBusy(true);
    try {
      const headers = {};
      if (NEEDS_TOKEN) {
        const token = $("token").value.trim();
        if (!token) throw new Error("this server needs an access token: paste it first");
        sessionStorage.setItem(KEY, token);
        headers.Authorization = "Bearer " + token;
      }
      const api = isClip ? "api/unmask-video" : "api/unmask?format=json";
      const r = await fetch(api, {method: "POST", body: form, headers});
      if (r.ok && isClip) { renderClip(await r.blob()); return; }
      let data = null;
      try { data = await r.json(); } catch (_) { /* not JSON */ }
      if (!r.ok) {
        let d = data && data.detail;
        if (typeof d !== "string") d = d ? JSON.stringify(d) : `server error ${r.status}`;
        if (r.status === 503 && r.headers.get("Retry-After")) {
          d = `the server is busy; try again in ${r.headers.get("Retry-After")} s`;
        }
        throw new Error(d);
      }
      render(data);
    } catch (e) {
      $("result").hidden = true; $("clip").hidden = true;
      showError(e instanceof TypeError ? "Could not reach the unmask server. Is it still running?"
                                       : `Could not process "${file.name}": ${e.message}.`);
    } finally {
      setBusy(false);
    }
  }
  function cell(row, text, cls) {
    const td = row.insertCell();
    if (cls) { const s = document.createElement("span"); s.className = cls; s.textContent = text;
               td.appendChild(s); } else td.textContent = text;
  }
  function renderClip(blob) {
    urls.forEach((u) => URL.revokeObjectURL(u)); urls = [];
    const url = URL.createObjectURL(blob);
    urls.push(url);
    $("clip-video").src = url;
    $("dl-clip").href = url;
    $("dl-clip").download = (file.name.replace(/\.[^.]*$/, "") || "clip") + "-unmasked.mp4";
    $("result").hidden = true; $("clip").hidden = false;
  }
  function render(d) {
    urls.forEach((u) => URL.revokeObjectURL(u)); urls = [];
    $("clip").hidden = true;
    const stem = file.name.replace(/\.[^.]*$/, "") || "photo";
    const links = {restored: "-unmasked.png", compare: "-compare.png", mask: "-mask.png"};
    for (const [key, suffix] of Object.entries(links)) {
      const url = blobUrl(d.images[key]);
      $("dl-" + key).href = url; $("dl-" + key).download = stem + suffix;
      if (key === "restored") $("img-restored").src = url;
    }
    $("img-original").src = blobUrl(d.images.original);
    $("img-overlay").src = blobUrl(d.images.overlay);
    const n = d.faces.length, m = d.faces.filter((f) => f.masked).length;
    $("summary").textContent = (n ? `${n} face${n > 1 ? "s" : ""} found, ${m} masked and rebuilt`
      : "No face found: the photo is returned unchanged") +
      ` · ${d.size[0]}×${d.size[1]} px · ${Math.round(d.timings_ms.server || 0)} ms`;
    const body = $("faces").tBodies[0];
    body.replaceChildren();
    d.faces.forEach((f, i) => {
      const row = body.insertRow();
      cell(row, String(i + 1));
      cell(row, `${f.gender} · ` + (f.gender_forced ? "set by you" : pct(f.gender_score)));
      cell(row, f.masked ? "yes" : "no", "tag " + (f.masked ? "yes" : "no"));
      cell(row, f.masked ? pct(f.mask_coverage) + " of the face crop" : "–");
      cell(row, pct(f.score));
      const t = Object.values(f.timings_ms || {}).reduce((a, b) => a + b, 0);
      cell(row, `${Math.round(t)} ms`);
    });
    $("faces").hidden = !n;
    $("result").hidden = false;
  }
  $("file").addEventListener("change", (e) => choose(e.target.files[0]));
  $("form").addEventListener("submit", (e) => { e.preventDefault(); run(); });
  $("gender").addEventListener("change", () => { if (file) run(); });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over"); choose(e.dataTransfer.files[0]);
  });
})();
</script>
</body>
</html>
"""


def _num(x: float) -> str:
    return f"{float(x):g}"


def render(
    max_upload_mb: float, max_megapixels: float, version: str, token_required: bool = False
) -> str:
    """The page with the server's limits and version filled in; with ``token_required`` it
    shows an access-token field (kept in the tab's sessionStorage, sent as a bearer token)."""
    return (
        _PAGE.replace("__MAX_UPLOAD_MB__", _num(max_upload_mb))
        .replace("__MAX_MEGAPIXELS__", _num(max_megapixels))
        .replace("__TOKEN_REQUIRED__", "true" if token_required else "false")
        .replace("__VERSION__", version)
    )
