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

  function fraction(t) {
    return (t - view.start) / (view.end - view.start);
  }

  function percent(t) {
    return `${Math.max(0, Math.min(1, fraction(t))) * 100}%`;
  }

  function drawSpans() {
    const box = $("spans");
    box.textContent = "";
    for (const [start, end] of view.runs) {
      const div = document.createElement("div");
      div.style.left = percent(start);
      div.style.width = `calc(${percent(end)} - ${percent(start)})`;
      div.title = `${clockText(start)}–${clockText(end)}`;
      box.appendChild(div);
    }
  }

  function drawHours() {
    const box = $("hours");
    box.textContent = "";
    for (let h = 0; h <= 24; h += 3) {
      const t = h === 24 ? view.end : parseClock(`${h}:00`);
      if (t === null) continue;
      const span = document.createElement("span");
      span.style.left = percent(t);
      span.textContent = String(h).padStart(2, "0");
      box.appendChild(span);
    }
  }

  // The window of clock time the timeline shows (the whole day here), for layers drawn under it
  // (activity.js): they listen for "timeline:view" and read window.cctvTimeline.
  function announceView() {
    window.cctvTimeline = { start: view.start, end: view.end };
    document.dispatchEvent(new CustomEvent("timeline:view", { detail: { start: view.start, end: view.end } }));
  }

  function drawNow() {
    const t = currentClock();
    $("clock").textContent = t === null ? "--:--:--" : clockText(t);
    $("clock").dataset.clock = t === null ? "" : t.toFixed(3);
    const inDay = t !== null && t >= view.start && t < view.end;
    $("cursor").hidden = !inDay;
    if (inDay) $("cursor").style.left = percent(t);
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
    drawNow();
  }

  $("timeline").addEventListener("click", (event) => {
    const box = $("timeline").getBoundingClientRect();
    const f = (event.clientX - box.left) / box.width;
    seekClock(view.start + f * (view.end - view.start));
  });

  // --- stills over the timeline ---------------------------------------------------------------

  // Hovering shows the clock time and the keyframe of the footage at that minute. A still is
  // asked for once the pointer rests (not for every pixel it crosses); the browser caches it.
  const hover = { minute: null, timer: null };

  function showHover(event) {
    const box = $("timeline").getBoundingClientRect();
    const f = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width));
    const t = view.start + f * (view.end - view.start);
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

  $("timeline").addEventListener("mousemove", showHover);
  $("timeline").addEventListener("mouseleave", () => {
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

  // Which playlist a mode plays. With hls.js, the multivariant one: the original, or its H.264
  // rendition where this browser cannot decode the original. Native HLS (Safari) decodes
  // H.265 and gets the original untouched.
  function playlistOf(onward) {
    const query = `date=${view.day}${onward ? "&live=1" : ""}`;
    return useHlsJs() ? `variants.m3u8?${query}` : `playlist.m3u8?${query}`;
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
      if (response.ok) view = await response.json();
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
  drawSpans();
  drawHours();
  drawSelection();
  const query = new URLSearchParams(location.search);
  const asked = parseClock(query.get("t"));
  const askedPosition = asked !== null && positionOf(asked) ? positionOf(asked).position : 0;
  if (query.get("live") === "1") toLive();
  else if (query.get("onward") === "1") toOnward(askedPosition);
  else start(askedPosition);
  if (!view.ended) setTimeout(refresh, 30000);
  window.cctvPlayer = { parseClock, clockText, positionOf, clockAt, currentClock, seekClock, view: () => view, hls: () => hls };
  announceView();
})();
