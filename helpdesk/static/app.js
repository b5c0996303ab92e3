// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  document.querySelectorAll("[data-copy]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(btn.dataset.copy);
      } catch (e) {
        const range = document.createRange();
        const target = document.getElementById("protocol-" + btn.dataset.copy);
        if (target) { range.selectNodeContents(target); const s = getSelection(); s.removeAllRanges(); s.addRange(range); }
      }
      const old = btn.textContent;
      btn.textContent = btn.dataset.copied || "✓";
      setTimeout(() => { btn.textContent = old; }, 1500);
    });
  });
  document.querySelectorAll("[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (ev) => { if (!confirm(form.dataset.confirm)) ev.preventDefault(); });
  });
  document.querySelectorAll("[data-check-all]").forEach((box) => {
    box.addEventListener("change", () => {
      document.querySelectorAll(box.dataset.checkAll).forEach((cb) => { cb.checked = box.checked; });
    });
  });
});
