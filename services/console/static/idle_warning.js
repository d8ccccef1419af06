// The idle warning: shows "you will be signed out in 2 minutes" before the clinic's idle timeout
// and offers to stay signed in (a form post that renews the session). The page says when the
// session ends (data-session-ends-in, seconds) and how early to warn (data-warn-before). Without
// this script the session still ends on the server; this only warns.
(function () {
  "use strict";
  var body = document.body;
  var endsIn = parseInt(body.getAttribute("data-session-ends-in") || "", 10);
  var warnBefore = parseInt(body.getAttribute("data-warn-before") || "", 10);
  var box = document.getElementById("idle-warning");
  if (!box || isNaN(endsIn) || isNaN(warnBefore)) {
    return;
  }
  var endsAt = Date.now() + endsIn * 1000;
  var countdown = box.querySelector("[data-countdown]");

  function words(seconds) {
    if (seconds >= 90) {
      return Math.round(seconds / 60) + " minutes";
    }
    if (seconds >= 60) {
      return "1 minute";
    }
    return seconds + (seconds === 1 ? " second" : " seconds");
  }

  function tick() {
    var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    if (left === 0) {
      window.location.reload(); // the server says the session has ended
      return;
    }
    countdown.textContent = words(left);
    window.setTimeout(tick, 1000);
  }

  function warn() {
    box.hidden = false;
    box.setAttribute("role", "alertdialog");
    var button = box.querySelector("button");
    if (button) {
      button.focus();
    }
    tick();
  }

  window.setTimeout(warn, Math.max(0, (endsIn - warnBefore) * 1000));
})();
