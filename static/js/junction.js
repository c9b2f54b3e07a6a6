// Junction's small page behaviours. Scripts live in files so the CSP can forbid inline ones.
document.addEventListener("htmx:responseError", (event) => {
  // A failed htmx request must not fail silently: say so where the user is looking.
  const target = event.detail.target;
  if (target) {
    target.insertAdjacentHTML("afterbegin",
      '<div class="alert alert-danger" role="alert">The server could not complete this request. Please retry.</div>');
  }
});
