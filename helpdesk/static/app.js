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
  // portal: offer only the categories that apply to the chosen kind of demand
  document.querySelectorAll("select[data-kind-filter]").forEach((select) => {
    const radios = select.form.querySelectorAll("input[name=kind]");
    const apply = () => {
      const chosen = Array.from(radios).find((r) => r.checked);
      select.querySelectorAll("option[data-kinds]").forEach((opt) => {
        const fits = !chosen || opt.dataset.kinds.split(" ").includes(chosen.value);
        opt.hidden = !fits;
        opt.disabled = !fits;
        if (!fits && opt.selected) select.value = "";
      });
    };
    radios.forEach((r) => r.addEventListener("change", apply));
    apply();
  });
  // console: "/" focuses the search box of the header (unless the user is typing somewhere)
  const searchBox = document.querySelector("[data-search-shortcut]");
  if (searchBox) {
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const el = document.activeElement;
      if (el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName))) return;
      ev.preventDefault();
      searchBox.focus();
      searchBox.select();
    });
  }
  // console: pop the caller's record when the phone system rings this agent (polling, no SSE)
  const pop = document.querySelector("[data-call-pop]");
  if (pop) {
    let last = "";
    const poll = async () => {
      if (document.visibilityState === "hidden") return;
      try {
        const r = await fetch(pop.dataset.callPop, { headers: { Accept: "text/html" }, cache: "no-store" });
        if (!r.ok || r.redirected) return; // signed out meanwhile: never show the login page here
        const html = (await r.text()).trim();
        if (html !== last && !pop.contains(document.activeElement)) { last = html; pop.innerHTML = html; }
      } catch (e) { /* offline for a moment: try again at the next tick */ }
    };
    poll();
    setInterval(poll, 4000);
  }
});

// workspace: filter the macro list as you type; preview the filled reply without a round-trip
document.addEventListener("DOMContentLoaded", () => {
  const picker = document.querySelector("[data-macro-picker]");
  if (!picker) return;
  const select = picker.querySelector("select[name=macro]");
  const filter = picker.querySelector("[data-macro-filter]");
  const preview = document.querySelector("[data-macro-preview]");
  filter.hidden = false;
  filter.addEventListener("input", () => {
    const words = filter.value.trim().toLowerCase();
    let first = null;
    select.querySelectorAll("option").forEach((opt) => {
      const fits = !words || opt.textContent.toLowerCase().includes(words);
      opt.hidden = !fits;
      if (fits && !first) first = opt;
    });
    if (first && select.selectedOptions[0] && select.selectedOptions[0].hidden) select.value = first.value;
  });
  filter.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); show(); }
  });
  const show = async () => {
    const response = await fetch(picker.dataset.macroPicker + select.value + "/preview", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    preview.action = data.apply_url;
    preview.querySelector("textarea").value = data.body;
    const list = preview.querySelector("[data-macro-actions]");
    list.replaceChildren(...data.actions.map((text) => { const li = document.createElement("li"); li.textContent = text; return li; }));
    preview.hidden = false;
    preview.querySelector("textarea").focus();
  };
  select.addEventListener("change", show);
});

// The bulk bar opens itself when a row is selected (its actions are hidden until then).
document.querySelectorAll("form.bulk-bar").forEach((bar) => {
  const details = bar.querySelector("details");
  const boxes = () => document.querySelectorAll(`input[form="${bar.id}"].row-check`);
  document.addEventListener("change", (ev) => {
    if (!ev.target.matches(`input[form="${bar.id}"].row-check`)) return;
    if (details && [...boxes()].some((b) => b.checked)) details.open = true;
  });
});
