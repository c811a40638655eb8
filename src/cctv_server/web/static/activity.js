// Activity in the player: a heat strip under the timeline (where something happens), the day's
// events with their stills, and previous/next event (buttons, keys "," and ".") across days.
// It draws the window of clock time the timeline shows: the "timeline:view" event's, else the day.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const player = window.cctvPlayer;
  const layers = $("timeline-layers");
  if (!player || !layers) return;
  const day = player.view().day;
  let data = null; // the api/activity/DAY answer
  let windowShown = window.cctvTimeline || { start: player.view().start, end: player.view().end };

  const strip = document.createElement("canvas");
  strip.id = "heat";
  strip.className = "heat";
  strip.height = 12;
  strip.title = "Activity: the darker, the more of the picture changed";
  strip.style.cssText = "display:block;width:100%;height:12px;margin-top:2px;background:#f4f4f4";
  layers.appendChild(strip);

  function status(text) {
    $("activity-status").textContent = text;
  }

  // The heat of one pixel column: the highest activity of the steps under it, against the
  // threshold (at the threshold a strong colour, above it the strongest).
  function drawHeat() {
    const width = Math.max(1, Math.round(layers.clientWidth || 600));
    strip.width = width;
    const ctx = strip.getContext("2d");
    ctx.clearRect(0, 0, width, strip.height);
    if (!data) return;
    const span = windowShown.end - windowShown.start;
    for (let i = 0; i < data.heat.length; i++) {
      const value = data.heat[i];
      if (value === null || value <= 0) continue;
      const t = data.start + i * data.step;
      const x0 = ((t - windowShown.start) / span) * width;
      const x1 = ((t + data.step - windowShown.start) / span) * width;
      if (x1 < 0 || x0 > width) continue;
      const level = Math.min(1, value / data.threshold);
      ctx.fillStyle = level >= 1 ? "rgb(200,40,20)" : `rgba(230,120,20,${0.15 + 0.7 * level})`;
      ctx.fillRect(Math.floor(x0), 0, Math.max(1, Math.ceil(x1 - x0)), strip.height);
    }
  }

  function clock(t) {
    return player.clockText(t);
  }

  function drawList() {
    const list = $("events");
    list.textContent = "";
    for (const e of data.events) {
      const li = document.createElement("li");
      li.className = "event";
      const button = document.createElement("button");
      button.type = "button";
      button.title = `Play from ${clock(e.start_unix)}`;
      const img = document.createElement("img");
      img.src = e.still;
      img.alt = `The picture at ${clock(e.peak_unix)}`;
      img.loading = "lazy";
      img.width = 160;
      img.height = 90;
      const text = document.createElement("span");
      text.textContent = `${clock(e.start_unix)}–${clock(e.end_unix)} · score ${e.score}`;
      button.append(img, text);
      button.addEventListener("click", () => player.seekClock(e.start_unix));
      li.appendChild(button);
      list.appendChild(li);
    }
    status(data.events.length ? `${data.events.length} event${data.events.length > 1 ? "s" : ""} on this day`
      : (data.measuring ? "No events on this day" : "Activity is off for this camera"));
  }

  async function load() {
    try {
      const response = await fetch(`api/activity/${day}?step=${stepFor()}`, { cache: "no-store" });
      if (!response.ok) return;
      data = await response.json();
      drawHeat();
      drawList();
    } catch (err) {
      // the next poll tries again
    }
  }

  // Seconds per step of the heat: about one per pixel of the window shown.
  function stepFor() {
    const width = Math.max(100, layers.clientWidth || 600);
    return Math.max(1, Math.min(3600, Math.floor((windowShown.end - windowShown.start) / width)));
  }

  // The next (or previous) event from the time playing, on this day or another: another day's
  // player opens at the event.
  async function jump(way) {
    const now = player.currentClock();
    const from = now !== null ? now : (way === "next" ? player.view().start : player.view().end);
    try {
      const response = await fetch(`api/activity/near?t=${Math.floor(from)}&dir=${way}`, { cache: "no-store" });
      if (!response.ok) return;
      const found = (await response.json()).event;
      if (!found) {
        status(way === "next" ? "No later event" : "No earlier event");
      } else if (found.day === day) {
        player.seekClock(found.start_unix);
      } else {
        location.href = `day/${found.day}?t=${found.start.slice(11, 19)}`;
      }
    } catch (err) {
      status("Cannot reach the server");
    }
  }

  $("prev-event").addEventListener("click", () => jump("prev"));
  $("next-event").addEventListener("click", () => jump("next"));
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select, button") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key !== "," && event.key !== ".") return;
    event.preventDefault();
    jump(event.key === "." ? "next" : "prev");
  });
  document.addEventListener("timeline:view", (event) => {
    const before = stepFor();
    windowShown = { start: event.detail.start, end: event.detail.end };
    if (data && stepFor() !== before) load();
    else drawHeat();
  });
  window.addEventListener("resize", drawHeat);
  load();
  if (!player.view().ended) setInterval(load, 30000);
  window.cctvActivity = { data: () => data, jump };
})();
