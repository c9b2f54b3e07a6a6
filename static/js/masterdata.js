// Review queue: "select all on this page" and the live count on the "Merge selected" button.
(() => {
  const boxes = () => document.querySelectorAll('input[name="candidate"]');

  function refresh() {
    const chosen = [...boxes()].filter((box) => box.checked).length;
    document.querySelectorAll("[data-selected-count]").forEach((button) => {
      button.disabled = chosen === 0;
      const count = button.querySelector("[data-count]");
      if (count) count.textContent = chosen;
    });
    document.querySelectorAll("[data-select-all]").forEach((all) => {
      const total = boxes().length;
      all.checked = total > 0 && chosen === total;
      all.indeterminate = chosen > 0 && chosen < total;
    });
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-select-all]")) {
      boxes().forEach((box) => { box.checked = target.checked; });
    }
    if (target.matches('[data-select-all], input[name="candidate"]')) refresh();
  });
  document.addEventListener("DOMContentLoaded", refresh);
  // Back/forward cache restores ticked boxes without a change event.
  window.addEventListener("pageshow", refresh);
})();
