// Help centre suggestions beside the new-demand form (progressive enhancement: the form works
// without it). While the subject or description is typed, /help/suggest answers with matching
// articles and known problems; the visit id ties "shown", "opened" and "submitted" together
// for the deflection report.
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("[data-suggest]");
  if (!panel) return;
  const form = panel.closest(".demand-layout")?.querySelector("form");
  if (!form) return;
  const subject = form.querySelector("#subject");
  const description = form.querySelector("#description");
  const list = panel.querySelector("[data-suggest-list]");
  const problemsBox = panel.querySelector("[data-suggest-problems]");
  const empty = panel.querySelector("[data-suggest-empty]");
  const note = panel.querySelector("[data-suggest-note]");
  const template = panel.querySelector("[data-problem-template]");
  // on a narrow screen the suggestions go right under the description, where the eyes are
  const place = () => {
    const narrow = window.matchMedia("(max-width: 1099px)").matches;
    const anchor = (description || subject)?.closest(".field");
    if (narrow && anchor && panel.previousElementSibling !== anchor) anchor.after(panel);
    if (!narrow && panel.parentElement !== form.parentElement) form.after(panel);
  };
  place();
  window.addEventListener("resize", place);
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  const visit = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  let timer = null;
  let lastQuery = "";
  let controller = null;

  const render = (data) => {
    list.replaceChildren();
    problemsBox.replaceChildren();
    (data.problems || []).forEach((p) => {
      const node = template.content.firstElementChild.cloneNode(true);
      const link = node.querySelector("[data-field=title]");
      link.textContent = p.title;
      link.href = p.url;
      link.target = "_blank";
      link.rel = "noopener";
      node.querySelector("[data-field=workaround]").textContent = p.workaround || "";
      problemsBox.appendChild(node);
    });
    (data.articles || []).forEach((a) => {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = a.url;
      link.textContent = a.title;
      link.target = "_blank";
      link.rel = "noopener";
      const snippet = document.createElement("p");
      snippet.className = "small";
      // the server's snippet is escaped HTML with <mark> around the matches: keep only those
      snippet.innerHTML = a.snippet.replace(/<(?!\/?mark>)[^>]*>/g, "");
      li.append(link, snippet);
      list.appendChild(li);
    });
    const found = (data.articles || []).length + (data.problems || []).length > 0;
    panel.classList.toggle("has-results", found);
    empty.hidden = found;
    note.hidden = !found;
  };

  const ask = async () => {
    const text = `${subject ? subject.value : ""} ${description ? description.value : ""}`.trim().slice(0, 200);
    if (text === lastQuery) return;
    lastQuery = text;
    if (text.length < 3) { render({}); return; }
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const url = `${panel.dataset.suggest}?visit=${visit}&q=${encodeURIComponent(text)}`;
      const r = await fetch(url, { headers: { Accept: "application/json" }, signal: controller.signal });
      if (r.ok) render(await r.json());
    } catch (e) { /* aborted by the next keystroke, or offline: the form still works */ }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(ask, 300); };
  [subject, description].forEach((el) => el && el.addEventListener("input", later));
  form.addEventListener("submit", () => {
    const data = new FormData();
    data.append("csrf_token", panel.dataset.csrf);
    data.append("visit", visit);
    data.append("kind", "submitted");
    if (navigator.sendBeacon) navigator.sendBeacon(panel.dataset.events, data);
  });
  if ((subject && subject.value) || (description && description.value)) ask();
});
