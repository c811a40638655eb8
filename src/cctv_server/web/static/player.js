// The day player: hls.js (or the browser's own HLS) on a day's playlist, a timeline in clock time,
// going to a typed time, live, and clip export. Clock times are Unix seconds throughout.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const video = $("video");
  let view = JSON.parse($("day-data").textContent);
  let mode = "day"; // or "onward" (this day and the days after it), or "live" (the newest minutes)
  let hls = null;

  // --- clock time <-> the day's local time -----------------------------------------------------

  function offsetAt(t) {
    let found = view.offsets[0][1];
    for (const [from, offset] of view.offsets) if (t >= from) found = offset;
    return found;
  }

  // The wall-clock text of an instant in the day's zone (not the browser's).
  function wall(t) {
    return new Date((t + offsetAt(t)) * 1000).toISOString();
  }

  function clockText(t) {
    return wall(t).slice(11, 19);
  }

  function isoText(t) {
    const offset = offsetAt(t);
    const sign = offset < 0 ? "-" : "+";
    const abs = Math.abs(offset);
    const hh = String(Math.floor(abs / 3600)).padStart(2, "0");
    const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, "0");
    return `${wall(t).slice(0, 19)}${sign}${hh}:${mm}`;
  }

  // `14:32`, `1432`, `14:32:05` on this day -> an instant; null when it is no time of day.
  function parseClock(text) {
    const m = /^\s*(\d{1,2})[:.h]?(\d{2})(?:[:.](\d{2}))?\s*$/.exec(text || "");
    if (!m || +m[1] > 24 || +m[2] > 59 || +(m[3] || 0) > 59) return null;
    const local = +m[1] * 3600 + +m[2] * 60 + +(m[3] || 0);
    const midnight = view.start + view.offsets[0][1]; // local midnight, counted as if UTC
    for (const [, offset] of view.offsets) {
      const t = midnight + local - offset;
      if (offsetAt(t) === offset) return t;
    }
    return null; // a time skipped by a clock change
  }

  // --- playlist time <-> clock time, through the runs of footage ------------------------------

  function clockAt(position) {
    let run = null;
    for (const r of view.runs) if (position >= r[2] - 0.001 && (!run || r[2] >= run[2])) run = r;
    return run ? Math.min(run[0] + (position - run[2]), run[1]) : null;
  }

  // Where to seek for clock time t: inside a run, or the start of the next footage after it.
  function positionOf(t) {
    let next = null;
    for (const r of view.runs) {
      if (t >= r[0] && t < r[1]) return { position: r[2] + (t - r[0]), at: t };
      if (r[0] > t && (!next || r[0] < next[0])) next = r;
    }
    return next ? { position: next[2], at: next[0] } : null;
  }

  function currentClock() {
    if (mode === "day") return clockAt(video.currentTime);
    if (hls && hls.playingDate) return hls.playingDate.getTime() / 1000;
    if (video.getStartDate && !isNaN(video.getStartDate().getTime())) {
      return video.getStartDate().getTime() / 1000 + video.currentTime;
    }
    return null;
  }

  // --- loading a playlist ----------------------------------------------------------------------

  function useHlsJs() {
    return typeof Hls !== "undefined" && Hls.isSupported();
  }

  function load(url, startPosition) {
    if (hls) hls.destroy();
    hls = null;
    const absolute = new URL(url, document.baseURI).href;
    video.hidden = false;
    $("notice").hidden = true;
    if (useHlsJs()) {
      hls = new Hls({ startPosition: startPosition, enableWorker: true });
      hls.on(Hls.Events.ERROR, (_, data) => data.fatal && failed(data));
      hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
        const level = chooseLevel(data.levels);
        if (data.levels.length > 1 && level >= 0) hls.currentLevel = level; // no switching between them
        $("rendition").hidden = level < 0 || !isRendition(data.levels[level]);
      });
      hls.loadSource(absolute);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = absolute;
      if (startPosition > 0) {
        video.addEventListener("loadedmetadata", () => { video.currentTime = startPosition; }, { once: true });
      }
    } else {
      stop("This browser cannot play HLS video here, and the player library is missing. "
        + "Open the playlist in VLC: ", absolute);
      return;
    }
    video.play().catch(() => {}); // autoplay may be refused; the controls stay usable
  }

  function failed(data) {
    const playlist = new URL(view.playlist, document.baseURI).href;
    if (/codec/i.test(data.details || "")) {
      stop("This browser cannot decode this video. Download it below, or open the playlist in VLC: ", playlist);
    } else {
      stop(`The video could not be played (${data.details}). The playlist for VLC: `, playlist);
    }
  }

  // A variant of the multivariant playlist: the H.264 rendition (h264.m3u8) or the original.
  function isRendition(level) {
    return /\/h264\.m3u8\?/.test(level.uri || String(level.url));
  }

  // hls.js has dropped the variants whose CODECS this browser cannot decode. Of the rest, the
  // original is played untouched, unless it mixes a video in AV1 with segments: that is served
  // as MPEG-TS, from which hls.js demuxes H.264 and H.265 only. Else the H.264 rendition.
  function chooseLevel(levels) {
    const playable = (l) => !(/av01/.test(l.videoCodec || "") && /,/.test(l.videoCodec || ""));
    const original = levels.findIndex((l) => !isRendition(l) && playable(l));
    return original >= 0 ? original : levels.findIndex(isRendition);
  }

  // --- what the page says ----------------------------------------------------------------------

  function notice(text) {
    const el = $("notice");
    el.className = "notice";
    el.textContent = text;
    el.hidden = !text;
    clearTimeout(notice.timer);
    if (text) notice.timer = setTimeout(() => { el.hidden = true; }, 6000);
  }

  function stop(text, url) {
    const el = $("notice");
    el.className = "notice stop";
    el.hidden = false;
    el.textContent = text;
    if (url) {
      const a = document.createElement("a");
      a.href = url;
      a.textContent = url;
      el.appendChild(a);
    }
    clearTimeout(notice.timer);
  }

  // --- the timeline ------------------------------------------------------------------------------

  // The timeline shows a window of the day, from all 24 hours down to MIN_SPAN; it zooms (wheel,
  // pinch, +/-, presets) and pans (drag). Other scripts follow it: `timeline:view` is sent with
  // the window's bounds (Unix seconds) whenever it changes, and window.cctvTimeline holds them.
  const MIN_SPAN = 120;
  const win = { start: view.start, end: view.end };

  function fraction(t) {
    return (t - win.start) / (win.end - win.start);
  }

  function percent(t) {
    return `${Math.max(0, Math.min(1, fraction(t))) * 100}%`;
  }

  function clockOfX(clientX) {
    const box = $("timeline").getBoundingClientRect();
    const f = Math.max(0, Math.min(1, (clientX - box.left) / box.width));
    return { t: win.start + f * (win.end - win.start), f };
  }

  // Pure: the window of `span` seconds that keeps `anchor` at fraction `f`, inside the day.
  function windowAround(anchor, f, span) {
    const day = view.end - view.start;
    span = Math.max(MIN_SPAN, Math.min(day, span));
    let start = anchor - f * span;
    start = Math.max(view.start, Math.min(view.end - span, start));
    return { start, end: start + span };
  }

  function setWindow(next) {
    win.start = next.start;
    win.end = next.end;
    drawTimeline();
  }

  function zoomBy(factor, anchor, f) {
    if (anchor === undefined) {
      const t = currentClock();
      anchor = t !== null && t >= win.start && t <= win.end ? t : (win.start + win.end) / 2;
      f = fraction(anchor);
    }
    setWindow(windowAround(anchor, f, (win.end - win.start) * factor));
  }

  function preset(span) {
    const t = currentClock();
    const anchor = t !== null && t >= view.start && t < view.end ? t : (win.start + win.end) / 2;
    setWindow(windowAround(anchor, 0.5, span));
  }

  function drawTimeline() {
    drawSpans();
    drawHours();
    drawSelection();
    drawNow();
    const span = win.end - win.start;
    $("zoom-in").disabled = span <= MIN_SPAN;
    $("zoom-out").disabled = span >= view.end - view.start;
    for (const b of document.querySelectorAll("[data-span]")) {
      b.classList.toggle("on", Math.abs(+b.dataset.span - span) < 1);
    }
    window.cctvTimeline = { start: win.start, end: win.end };
    document.dispatchEvent(new CustomEvent("timeline:view", { detail: { start: win.start, end: win.end } }));
  }

  function drawSpans() {
    const box = $("spans");
    box.textContent = "";
    for (const [start, end] of view.runs) {
      if (end <= win.start || start >= win.end) continue;
      const div = document.createElement("div");
      div.style.left = percent(start);
      div.style.width = `calc(${percent(end)} - ${percent(start)})`;
      div.title = `${clockText(start)}–${clockText(end)}`;
      box.appendChild(div);
    }
  }

  // Label steps, seconds: the first that gives at most 8 labels across the window.
  const STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800];

  function drawHours() {
    const box = $("hours");
    box.textContent = "";
    const span = win.end - win.start;
    const step = STEPS.find((s) => span / s <= 8) || STEPS[STEPS.length - 1];
    const offset = offsetAt(win.start);
    for (let local = Math.ceil((win.start + offset) / step) * step; local - offset <= win.end; local += step) {
      const t = local - offsetAt(local - offset);
      if (t < win.start || t > win.end) continue;
      const span_ = document.createElement("span");
      span_.style.left = percent(t);
      span_.textContent = step >= 3600 && t !== view.end ? clockText(t).slice(0, 2) : clockText(t).slice(0, 5);
      if (t === view.end) span_.textContent = "24";
      box.appendChild(span_);
    }
  }

  function drawNow() {
    const t = currentClock();
    $("clock").textContent = t === null ? "--:--:--" : clockText(t);
    $("clock").dataset.clock = t === null ? "" : t.toFixed(3);
    const inView = t !== null && t >= win.start && t < win.end;
    $("cursor").hidden = !inView;
    if (inView) $("cursor").style.left = percent(t);
  }

  function seekClock(t) {
    if (mode !== "day") toDay();
    const found = positionOf(t);
    if (!found) {
      notice(`No footage at or after ${clockText(t)} on ${view.day}.`);
      return;
    }
    if (Math.abs(found.at - t) > 1) {
      notice(`No footage at ${clockText(t)}; showing the next footage, from ${clockText(found.at)}.`);
    }
    video.currentTime = found.position;
    video.play().catch(() => {});
    if (found.at < win.start || found.at > win.end) {
      setWindow(windowAround(found.at, 0.5, win.end - win.start));
    }
    drawNow();
  }

  // Pointers on the bar: one that moves pans, one that does not is a click (seek); two pinch.
  const pointers = new Map();
  let gesture = null;

  function pinchSpan() {
    const [a, b] = [...pointers.values()];
    return { distance: Math.max(8, Math.abs(a.x - b.x)), mid: (a.x + b.x) / 2 };
  }

  $("timeline").addEventListener("pointerdown", (event) => {
    pointers.set(event.pointerId, { x: event.clientX });
    $("timeline").setPointerCapture(event.pointerId);
    if (pointers.size === 2) {
      const { distance, mid } = pinchSpan();
      const at = clockOfX(mid);
      gesture = { kind: "pinch", distance, span: win.end - win.start, anchor: at.t, moved: true };
    } else {
      gesture = { kind: "pan", x: event.clientX, start: win.start, moved: false };
      if (event.pointerType === "touch") showHover(event);
    }
  });

  $("timeline").addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId)) return;
    pointers.get(event.pointerId).x = event.clientX;
    if (!gesture) return;
    const width = $("timeline").getBoundingClientRect().width;
    if (gesture.kind === "pinch" && pointers.size === 2) {
      const { distance, mid } = pinchSpan();
      setWindow(windowAround(gesture.anchor, clockOfX(mid).f, gesture.span * gesture.distance / distance));
    } else if (gesture.kind === "pan") {
      const dx = event.clientX - gesture.x;
      if (Math.abs(dx) > 5) gesture.moved = true;
      if (!gesture.moved) return;
      $("hover").hidden = true;
      const span = win.end - win.start;
      setWindow(windowAround(gesture.start - dx / width * span, 0, span));
    }
  });

  function pointerEnd(event) {
    pointers.delete(event.pointerId);
    if (event.pointerType === "touch") {
      clearTimeout(hover.timer);
      setTimeout(() => { $("hover").hidden = true; }, 1500);
    }
    if (pointers.size === 0 && gesture) {
      const wasClick = !gesture.moved;
      gesture.done = wasClick ? null : Date.now();
      if (wasClick && event.pointerType === "touch" && event.type === "pointerup") {
        seekClock(clockOfX(event.clientX).t);
      }
      gesture = wasClick ? null : gesture;
    }
  }

  $("timeline").addEventListener("pointerup", pointerEnd);
  $("timeline").addEventListener("pointercancel", pointerEnd);

  $("timeline").addEventListener("click", (event) => {
    if (gesture && gesture.done) { // the end of a drag, not a click
      gesture = null;
      return;
    }
    if (event.pointerType === "touch") return; // seeked at pointerup
    seekClock(clockOfX(event.clientX).t);
  });

  $("timeline").addEventListener("wheel", (event) => {
    event.preventDefault();
    const at = clockOfX(event.clientX);
    const step = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    zoomBy(Math.pow(2, Math.max(-1, Math.min(1, step / 200))), at.t, at.f);
  }, { passive: false });

  $("zoom-in").addEventListener("click", () => zoomBy(0.5));
  $("zoom-out").addEventListener("click", () => zoomBy(2));
  for (const b of document.querySelectorAll("[data-span]")) {
    b.addEventListener("click", () => preset(+b.dataset.span));
  }

  // --- stills over the timeline ---------------------------------------------------------------

  // Hovering shows the clock time and the keyframe of the footage at that minute. A still is
  // asked for once the pointer rests (not for every pixel it crosses); the browser caches it.
  const hover = { minute: null, timer: null };

  function showHover(event) {
    if (gesture && gesture.moved) return;
    const { t, f } = clockOfX(event.clientX);
    const minute = Math.floor(t / 60) * 60;
    $("hover").hidden = false;
    $("hover").style.left = `clamp(6.5rem, ${f * 100}%, calc(100% - 6.5rem))`;
    $("hover-time").textContent = clockText(t);
    const footage = view.runs.some(([start, end]) => end > minute && start < minute + 60);
    if (!footage) $("hover-still").hidden = true;
    if (!footage || minute === hover.minute) return;
    clearTimeout(hover.timer);
    hover.timer = setTimeout(() => {
      hover.minute = minute;
      $("hover-still").src = `stills/${view.day}/${minute}.jpg`;
    }, 120);
  }

  $("timeline").addEventListener("pointermove", (event) => { if (event.pointerType !== "touch") showHover(event); });
  $("timeline").addEventListener("pointerleave", (event) => {
    if (event.pointerType === "touch") return;
    clearTimeout(hover.timer);
    $("hover").hidden = true;
  });
  $("hover-still").addEventListener("load", () => { $("hover-still").hidden = false; });
  $("hover-still").addEventListener("error", () => { $("hover-still").hidden = true; });

  $("goto").addEventListener("submit", (event) => {
    event.preventDefault();
    const t = parseClock($("goto-time").value);
    if (t === null) notice(`"${$("goto-time").value}" is not a time of day like 14:32 or 14:32:05.`);
    else seekClock(t);
  });

  // --- live ------------------------------------------------------------------------------------

  // Which playlist a mode plays: the multivariant one, with hls.js and with a browser's own HLS
  // player alike (Safari; Chromium has one too), so that each picks by CODECS a variant it can
  // decode: the original, or its H.264 rendition where it has no decoder for the original.
  function playlistOf(onward) {
    return `variants.m3u8?date=${view.day}${onward ? "&live=1" : ""}`;
  }

  function toOnward(position) {
    mode = "onward";
    setLive(false);
    $("onward").classList.add("on");
    $("mode").textContent = `${view.day} and on`;
    load(playlistOf(true), position);
  }

  function setLive(on) {
    $("live").classList.toggle("on", on);
    $("live").textContent = on ? "● Live – back to the day" : "● Live";
    $("mode").classList.toggle("live", on);
    $("onward").classList.remove("on");
  }

  function toLive() {
    mode = "live";
    setLive(true);
    $("mode").textContent = "Live";
    load("live.m3u8", -1);
  }

  function toDay() {
    mode = "day";
    setLive(false);
    $("mode").textContent = view.day;
    start(0);
  }

  $("live").addEventListener("click", () => (mode === "live" ? toDay() : toLive()));
  $("onward").addEventListener("click", () => (mode === "onward" ? toDay() : toOnward(0)));

  // --- export ----------------------------------------------------------------------------------

  function drawSelection() {
    const from = parseClock($("sel-from").value);
    const to = parseClock($("sel-to").value);
    const link = $("export-link");
    const ok = from !== null && to !== null && to > from;
    link.classList.toggle("disabled", !ok);
    link.setAttribute("aria-disabled", String(!ok));
    $("selection").hidden = !ok;
    if (!ok) {
      link.removeAttribute("href");
      return;
    }
    const codec = $("export-codec").value ? `&codec=${$("export-codec").value}` : "";
    link.href = `export.mp4?from=${encodeURIComponent(isoText(from))}&to=${encodeURIComponent(isoText(to))}${codec}`;
    $("selection").style.left = percent(from);
    $("selection").style.width = `calc(${percent(to)} - ${percent(from)})`;
  }

  function mark(input) {
    const t = currentClock();
    if (t !== null) $(input).value = clockText(t);
    drawSelection();
  }

  $("mark-from").addEventListener("click", () => mark("sel-from"));
  $("mark-to").addEventListener("click", () => mark("sel-to"));
  $("sel-from").addEventListener("input", drawSelection);
  $("sel-to").addEventListener("input", drawSelection);
  $("export-codec").addEventListener("change", drawSelection);
  $("export").addEventListener("submit", (event) => event.preventDefault());

  // --- an admin's actions: a share link for the selection, holding the day ---------------------

  async function adminPost(action, fields) {
    const form = $("admin");
    const response = await fetch(`/cam/${form.dataset.camera}/admin/${action}`, {
      method: "POST", headers: { "X-CSRF-Token": form.dataset.csrf },
      body: new URLSearchParams(fields),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(text.trim());
    return JSON.parse(text);
  }

  function say(text) {
    $("admin-status").textContent = text;
  }

  if ($("admin")) {
    $("share").addEventListener("click", async () => {
      const from = parseClock($("sel-from").value);
      const to = parseClock($("sel-to").value);
      if (from === null || to === null || to <= from) return say("Choose the clip's start and end first.");
      try {
        const made = await adminPost("share", { from: isoText(from), to: isoText(to), expires: "7d" });
        $("share-url").value = new URL(made.url, location.href).href;
        $("share-url").hidden = false;
        $("share-url").select();
        say("Share link made: it works for 7 days, for this range only.");
      } catch (err) {
        say(`No share link: ${err.message}`);
      }
    });
    $("hold").addEventListener("click", async () => {
      try {
        const held = await adminPost("hold", { day: view.day, reason: $("hold-reason").value });
        $("hold-state").textContent = `Held by ${held.by}: ${held.reason}`;
        $("release").hidden = false;
        say("Held: retention keeps this day until it is released.");
      } catch (err) {
        say(`Not held: ${err.message}`);
      }
    });
    $("release").addEventListener("click", async () => {
      try {
        await adminPost("release", { day: view.day });
        $("hold-state").textContent = "Not held";
        $("release").hidden = true;
        say("Released.");
      } catch (err) {
        say(`Not released: ${err.message}`);
      }
    });
  }

  // --- keys ------------------------------------------------------------------------------------

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select, button") || event.ctrlKey || event.metaKey || event.altKey) return;
    const step = { ArrowLeft: -10, ArrowRight: 10, j: -10, l: 10 }[event.key];
    if (step) {
      video.currentTime = Math.max(0, video.currentTime + step);
    } else if (event.key === " " || event.key === "k") {
      if (video.paused) video.play().catch(() => {});
      else video.pause();
    } else {
      return;
    }
    event.preventDefault();
  });

  // --- keeping up with a day still being recorded ---------------------------------------------

  async function refresh() {
    try {
      const response = await fetch(`api/day/${view.day}`, { cache: "no-store" });
      if (response.ok) {
        const whole = win.start === view.start && win.end === view.end;
        view = await response.json();
        if (whole) {
          win.start = view.start;
          win.end = view.end;
        }
      }
      drawSpans();
    } catch (err) {
      // the next poll will try again; the playing video does not depend on it
    }
    if (!view.ended) setTimeout(refresh, 30000);
  }

  // --- start -----------------------------------------------------------------------------------

  function start(position) {
    load(playlistOf(false), position);
  }

  video.addEventListener("timeupdate", drawNow);
  video.addEventListener("seeked", drawNow);
  drawTimeline();
  const query = new URLSearchParams(location.search);
  const asked = parseClock(query.get("t"));
  const askedPosition = asked !== null && positionOf(asked) ? positionOf(asked).position : 0;
  if (query.get("live") === "1") toLive();
  else if (query.get("onward") === "1") toOnward(askedPosition);
  else start(askedPosition);
  if (!view.ended) setTimeout(refresh, 30000);
  window.cctvPlayer = { parseClock, clockText, positionOf, clockAt, currentClock, seekClock,
    view: () => view, hls: () => hls, setWindow: (start, end) => setWindow(windowAround(start, 0, end - start)) };
})();
