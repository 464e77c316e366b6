/* The auction room's countdown and bid box. The countdown: every element with `data-ends-at` (an ISO 8601 time) shows the time left,
   ticking each second. The end is read from the attribute on every tick, so when htmx swaps in a partial
   whose end a late bid moved (anti-sniping), the countdown follows it without a reload; `htmx:afterSwap`
   redraws at once instead of waiting for the next tick. The bid box (`#id_amount`) follows the live next
   minimum while the bidder has not typed an amount of their own, so the amount it offers is never one the
   server would refuse as too low. No inline script: the CSP allows none. */
(function () {
  "use strict";

  function two(value) {
    return value < 10 ? "0" + value : String(value);
  }

  function remaining(milliseconds, daysText) {
    var seconds = Math.floor(milliseconds / 1000);
    var days = Math.floor(seconds / 86400);
    var clock = two(Math.floor((seconds % 86400) / 3600)) + ":" + two(Math.floor((seconds % 3600) / 60)) +
      ":" + two(seconds % 60);
    return days > 0 ? days + " " + daysText + " " + clock : clock;
  }

  function tick() {
    var timers = document.querySelectorAll("[data-ends-at]");
    var now = Date.now();
    for (var i = 0; i < timers.length; i += 1) {
      var timer = timers[i];
      var endsAt = Date.parse(timer.getAttribute("data-ends-at"));
      if (isNaN(endsAt)) {
        continue;
      }
      var left = endsAt - now;
      var text = left > 0 ? remaining(left, timer.getAttribute("data-days-text") || "d")
        : timer.getAttribute("data-ended-text") || "0";
      if (timer.textContent !== text) {
        timer.textContent = text;
      }
    }
  }

  function followMinimum() {
    var minimum = document.querySelector("[data-minimum]");
    var box = document.getElementById("id_amount");
    if (!minimum || !box || box.dataset.typed === "true") {
      return;
    }
    box.value = minimum.getAttribute("data-minimum");
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_amount") {
      event.target.dataset.typed = "true";
    }
  });
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", function () {
    tick();
    followMinimum();
  });
  window.setInterval(tick, 1000);
  tick();
}());
