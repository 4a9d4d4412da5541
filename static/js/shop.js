// Small progressive enhancements. Everything works without this file.
"use strict";

// After htmx swaps in a form with errors, move focus to its error summary
// so screen-reader and keyboard users land on the list of problems.
document.addEventListener("htmx:afterSwap", function (event) {
  var summary = event.detail.elt.querySelector
    ? event.detail.elt.querySelector("[data-error-summary]")
    : null;
  if (!summary && event.detail.target) {
    summary = event.detail.target.querySelector("[data-error-summary]");
  }
  if (summary) {
    summary.focus();
    // A fragment brings no <title>: say "Error:" in it as the full page would.
    if (document.title.indexOf("Error: ") !== 0) {
      document.title = "Error: " + document.title;
    }
  }
});

// Parts of forms that only matter after a choice (e.g. a separate delivery
// address) are folded away when scripts run; without JavaScript they stay visible.
document.documentElement.classList.add("js");
