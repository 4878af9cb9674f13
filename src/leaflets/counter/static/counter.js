// The counter's only script of its own (no inline script anywhere: the pages' policy forbids it).
// 1. After the server's idle limit without a request, go to the sign-in page: the server has
//    already ended the session, and this takes the patient's data off the screen.
// 2. On a page with errors, put the cursor in the first field that has one.
(function () {
  "use strict";
  var idle = Number(document.body.dataset.idleMs || 0);
  var timer = null;
  function restart() {
    if (!idle) { return; }
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { window.location.assign("/sign-in"); }, idle + 2000);
  }
  restart();
  document.addEventListener("htmx:afterRequest", restart);
  var first = document.querySelector("[aria-invalid='true']");
  if (first) { first.focus(); }
})();
