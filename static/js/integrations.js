// Dead-letter queue and record pages: selection, and which records the discard dialog is about.
(() => {
  const boxes = () => document.querySelectorAll('input[name="outcome"]');

  function refresh() {
    const chosen = [...boxes()].filter((box) => box.checked).length;
    document.querySelectorAll("[data-needs-selection]").forEach((button) => { button.disabled = chosen === 0; });
    document.querySelectorAll("[data-selected-total]").forEach((total) => { total.textContent = chosen; });
    document.querySelectorAll("[data-select-all-outcomes]").forEach((all) => {
      const total = boxes().length;
      all.checked = total > 0 && chosen === total;
      all.indeterminate = chosen > 0 && chosen < total;
    });
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-select-all-outcomes]")) {
      boxes().forEach((box) => { box.checked = target.checked; });
    }
    if (target.matches('[data-select-all-outcomes], input[name="outcome"]')) refresh();
  });

  // A row's "Discard" names its record; "Discard selected" leaves it empty so the ticked boxes count.
  document.addEventListener("show.bs.modal", (event) => {
    if (event.target.id !== "discard-dialog") return;
    const trigger = event.relatedTarget;
    const one = trigger && trigger.dataset.outcome ? trigger.dataset.outcome : "";
    const only = event.target.querySelector("[data-discard-only]");
    const what = event.target.querySelector("[data-discard-what]");
    if (only) only.value = one;
    if (what) {
      const chosen = [...boxes()].filter((box) => box.checked).length;
      what.textContent = one ? "this record" : `${chosen} selected record${chosen === 1 ? "" : "s"}`;
    }
  });
  document.addEventListener("shown.bs.modal", (event) => {
    const reason = event.target.querySelector("textarea[name=reason]");
    if (reason) reason.focus();
  });

  document.addEventListener("DOMContentLoaded", refresh);
  window.addEventListener("pageshow", refresh);
})();
