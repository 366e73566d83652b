// The dashboard works without this script: the period form is a plain GET
// form. Choosing a number of days shows it at once (the dates follow it).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("period");
  const days = document.getElementById("days");
  if (!form || !days) return;
  days.addEventListener("change", () => {
    for (const id of ["from", "to"]) {
      const el = document.getElementById(id);
      if (el) el.disabled = true; // not sent: the days decide
    }
    form.submit();
  });
});
