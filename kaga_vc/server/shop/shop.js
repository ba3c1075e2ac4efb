// The counter page: pick a check, show the OpenID4VP QR (and the KVP1 request), read the answer
// (polling for OpenID4VP, the camera + jsQR for a KVP1 answer QR), show the verdict in large type.
// All verification happens on the server; the page only displays what it returns.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let handle = null;
  let poll = null;
  let scanning = false;

  function text(tag, ja, en, cls) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.append(ja);
    if (en) { const s = document.createElement("span"); s.lang = "en"; s.textContent = en; el.append(s); }
    return el;
  }

  function value(v) {
    if (v === true) return ["はい", "yes"];
    if (v === false) return ["いいえ", "no"];
    if (v && typeof v === "object") return [Object.values(v).join(" "), ""];
    return [String(v), ""];
  }

  function show(verdict) {
    const box = $("result");
    box.replaceChildren();
    box.className = verdict.accepted ? "accepted" : "refused";
    box.dataset.verdict = verdict.accepted ? "accepted" : "refused";
    box.append(verdict.accepted ? text("p", "確認できました", "Accepted", "verdict")
                                : text("p", "確認できません", "Refused", "verdict"));
    if (verdict.claims && verdict.claims.length) {
      const dl = document.createElement("dl");
      dl.className = "claims";
      for (const c of verdict.claims) {
        dl.append(text("dt", c.ja, c.en));
        const [ja, en] = value(c.value);
        const dd = text("dd", ja, en);
        dd.dataset.claim = c.name;
        dl.append(dd);
      }
      box.append(dl);
    }
    if (verdict.reasons && verdict.reasons.length) {
      const ul = document.createElement("ul");
      ul.className = "reasons";
      for (const r of verdict.reasons) {
        const li = text("li", r.ja, r.en);
        li.dataset.code = r.code;
        ul.append(li);
      }
      box.append(ul);
    }
    box.focus();
  }

  function status(ja, en) {
    const box = $("result");
    box.className = "";
    delete box.dataset.verdict;
    box.replaceChildren(text("p", ja, en, "status"));
  }

  async function start(check, button) {
    stopCamera();
    if (poll) clearInterval(poll);
    for (const b of document.querySelectorAll(".check")) b.setAttribute("aria-pressed", String(b === button));
    status("要求を作成しています…", "Creating the request…");
    const res = await fetch("/openid4vp/requests", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ check }),
    });
    if (!res.ok) { status("要求を作成できませんでした", "Could not create the request"); return; }
    const made = await res.json();
    handle = made.handle;
    $("qr").innerHTML = made.qr;  // SVG made by the server (segno) from our own URI
    $("kvp1-qr").innerHTML = made.kvp1Qr;
    $("request").dataset.uri = made.uri;
    $("request").dataset.kvp1 = made.kvp1Request;
    $("request").dataset.handle = made.handle;
    $("wallet-link").href = made.uri;
    $("request").hidden = false;
    status("ウォレットでの提示を待っています…", "Waiting for the wallet…");
    poll = setInterval(check_result, 1000);
  }

  async function check_result() {
    if (!handle) return;
    const res = await fetch("/openid4vp/requests/" + encodeURIComponent(handle));
    if (!res.ok) return;
    const found = await res.json();
    if (found.status === "done") { clearInterval(poll); poll = null; stopCamera(); show(found); }
  }

  function stopCamera() {
    scanning = false;
    const video = $("camera");
    if (video.srcObject) { for (const t of video.srcObject.getTracks()) t.stop(); video.srcObject = null; }
    video.hidden = true;
  }

  async function scan() {
    if (!handle) return;
    let stream;
    try {
      // as many pixels as the camera gives: an answer QR is dense (version 30-40)
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 1920 },
                                                                    height: { ideal: 1920 } } });
    } catch (e) {
      status("カメラを使えません", "The camera is not available");
      return;
    }
    const video = $("camera");
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    scanning = true;
    status("応答の QR コードをカメラに向けてください", "Hold the answer QR code to the camera");
    const canvas = $("frame");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const tick = async () => {
      if (!scanning) return;
      if (video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        if (code && code.data.startsWith("KVP1:")) {
          stopCamera();
          if (poll) { clearInterval(poll); poll = null; }
          status("確認しています…", "Checking…");
          const res = await fetch("/openid4vp/requests/" + encodeURIComponent(handle) + "/kvp1", {
            method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ response: code.data }),
          });
          if (res.ok) show(await res.json());
          else status("確認できませんでした（読み取りエラー）", "Could not check (unreadable answer)");
          return;
        }
      }
      setTimeout(tick, 150);
    };
    tick();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const b of document.querySelectorAll(".check")) {
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => start(b.dataset.check, b));
    }
    $("show-kvp1").addEventListener("click", () => { $("kvp1-figure").hidden = !$("kvp1-figure").hidden; });
    $("scan").addEventListener("click", scan);
    const fromHash = location.hash.match(/^#request=([0-9a-f]{32})$/);
    if (fromHash) {  // a request made elsewhere (the clerk's other screen, a test): read its answer here
      handle = fromHash[1];
      $("request").hidden = false;
      poll = setInterval(check_result, 1000);
    }
  });
})();
