// Polling (hx-trigger="every ...") pauses while the tab is hidden. The templates' trigger
// filters ([document.visibilityState === 'visible']) say so too, but htmx evaluates filters
// with eval, which the Content-Security-Policy forbids: htmx.config.allowEval is off
// (base.html), the filters then always pass, and this listener does their job.
document.addEventListener("htmx:beforeRequest", function (event) {
  var trigger = event.detail.elt.getAttribute("hx-trigger") || "";
  if (document.visibilityState !== "visible" && /^\s*every\s/.test(trigger)) {
    event.preventDefault();
  }
});
