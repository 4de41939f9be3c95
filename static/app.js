// Polling (hx-trigger="every ...") pauses while the tab is hidden. htmx could do this with a
// trigger filter ([document.visibilityState === 'visible']), but it evaluates filters with
// eval, which the Content-Security-Policy forbids (htmx.config.allowEval is off in base.html):
// a filter would log htmx:evalDisallowedError on every poll. This listener does the filter's job.
// A poller marked data-poll-hidden keeps polling (the Trakt code: the user is on Trakt's tab).
document.addEventListener("htmx:beforeRequest", function (event) {
  var elt = event.detail.elt;
  var trigger = elt.getAttribute("hx-trigger") || "";
  if (document.visibilityState !== "visible" && /^\s*every\s/.test(trigger) && !elt.hasAttribute("data-poll-hidden")) {
    event.preventDefault();
  }
});
