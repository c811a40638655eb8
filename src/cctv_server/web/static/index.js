// The index page: a day whose poster cannot be made (no keyframe yet) shows no broken image.
// Here, not in an onerror attribute: the page's Content-Security-Policy runs scripts from files only.
"use strict";
for (const img of document.querySelectorAll("img.poster")) {
  const hide = () => { img.hidden = true; };
  if (img.complete && img.naturalWidth === 0) hide();
  else img.addEventListener("error", hide);
}
