// Console knowledge base: the article editor's small toolbar, and the workspace's article picker
// that puts a help-centre link or an article's text into the answer. Progressive enhancement.
document.addEventListener("DOMContentLoaded", () => {
  const insertAtCursor = (area, text) => {
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? area.value.length;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.selectionStart = area.selectionEnd = start + text.length;
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  };

  // the editor's toolbar: wraps the selection in a tag
  document.querySelectorAll("[data-kb-toolbar]").forEach((bar) => {
    const area = bar.parentElement.querySelector("textarea");
    if (!area) return;
    bar.hidden = false;
    bar.querySelectorAll("[data-wrap]").forEach((btn) => {
      btn.addEventListener("click", () => {
        const tag = btn.dataset.wrap;
        const chosen = area.value.slice(area.selectionStart, area.selectionEnd) || "";
        let html = `<${tag}>${chosen}</${tag}>`;
        if (btn.dataset.list) {
          const items = (chosen || "").split("\n").filter((l) => l.trim()).map((l) => `  <li>${l.trim()}</li>`);
          html = `<${btn.dataset.list}>\n${items.join("\n") || "  <li></li>"}\n</${btn.dataset.list}>`;
        }
        insertAtCursor(area, html);
      });
    });
    bar.querySelectorAll("[data-link]").forEach((btn) => {
      btn.addEventListener("click", () => {
        const href = window.prompt(btn.dataset.prompt, "https://");
        if (!href) return;
        const chosen = area.value.slice(area.selectionStart, area.selectionEnd) || href;
        const a = document.createElement("a");
        a.href = href;
        a.textContent = chosen;
        insertAtCursor(area, a.outerHTML);
      });
    });
  });

  // the workspace's picker
  document.querySelectorAll("[data-kb-picker]").forEach((picker) => {
    const input = picker.querySelector("input[type=search]");
    const list = picker.querySelector("[data-kb-results]");
    const template = picker.querySelector("[data-kb-item]");
    const target = document.querySelector(picker.dataset.target);
    if (!input || !target) return;
    let timer = null;
    let controller = null;
    const ask = async () => {
      const q = input.value.trim();
      list.replaceChildren();
      if (q.length < 2) return;
      if (controller) controller.abort();
      controller = new AbortController();
      try {
        const lang = picker.dataset.language ? `&language=${picker.dataset.language}` : "";
        const r = await fetch(`${picker.dataset.kbPicker}?q=${encodeURIComponent(q)}${lang}`, {
          headers: { Accept: "application/json" }, signal: controller.signal,
        });
        if (!r.ok) return;
        const data = await r.json();
        data.items.forEach((item) => {
          const li = template.content.firstElementChild.cloneNode(true);
          li.querySelector("[data-field=title]").textContent = item.title;
          if (!item.internal) li.querySelector("[data-field=internal]").remove();
          li.querySelector("[data-field=snippet]").innerHTML = item.snippet.replace(/<(?!\/?mark>)[^>]*>/g, "");
          const linkBtn = li.querySelector("[data-insert=link]");
          if (item.internal) linkBtn.remove(); // an internal article has no public page to link
          else linkBtn.addEventListener("click", () => insertAtCursor(target, `${item.title}: ${item.url}\n`));
          li.querySelector("[data-insert=text]").addEventListener("click", () =>
            insertAtCursor(target, `${item.text}\n${item.internal ? "" : item.url + "\n"}`));
          list.appendChild(li);
        });
      } catch (e) { /* aborted by the next keystroke */ }
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 250); });
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); ask(); } });
  });
});
