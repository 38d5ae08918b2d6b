// The little JavaScript the pages use; every page works without it.
//
// The hold's countdown: a visible clock (hidden from screen readers, which would hear every second)
// and a polite announcement at a few moments (each minute, then 30 and 10 seconds). Whether the hold
// has expired is for the server to say: the page polls it (htmx) and shows an alert when it has.
(function () {
  "use strict";
  function format(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function announcement(seconds) {
    if (seconds === 30 || seconds === 10) return seconds + " seconds left to confirm your booking.";
    if (seconds > 0 && seconds % 60 === 0) {
      var minutes = seconds / 60;
      return minutes + (minutes === 1 ? " minute" : " minutes") + " left to confirm your booking.";
    }
    return null;
  }
  function tick() {
    var announcer = document.getElementById("hold-announce");
    if (!announcer) return;
    var expires = Date.parse(announcer.getAttribute("data-expires"));
    var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    document.querySelectorAll("[data-countdown]").forEach(function (clock) {
      clock.textContent = "(" + format(left) + " left)";
    });
    var text = announcement(left);
    if (text && announcer.textContent !== text) announcer.textContent = text;
  }
  document.addEventListener("DOMContentLoaded", function () {
    // The print button of the tickets page does nothing without JavaScript, so it is shown by it.
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    tick();
    setInterval(tick, 1000);
    document.body.addEventListener("htmx:afterSwap", tick);
  });
})();
