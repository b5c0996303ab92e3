// The macro form: insert a placeholder where the cursor is; the preview follows the typing.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("[data-macro-form]");
  if (!form) return;
  const bodies = [...form.querySelectorAll(".body-field textarea")];
  let last = bodies[0];
  bodies.forEach((area) => area.addEventListener("focus", () => { last = area; }));
  form.querySelectorAll("[data-insert]").forEach((button) => {
    button.addEventListener("click", () => {
      if (!last) return;
      const text = button.dataset.insert;
      const start = last.selectionStart ?? last.value.length;
      const end = last.selectionEnd ?? start;
      last.value = last.value.slice(0, start) + text + last.value.slice(end);
      last.focus();
      last.setSelectionRange(start + text.length, start + text.length);
      schedule();
    });
  });
  const box = form.querySelector("[data-macro-previews]");
  const protocol = form.querySelector("#protocol");
  let timer = null;
  const render = async () => {
    const data = new FormData(form);
    data.delete("op");
    let answer;
    try {
      const response = await fetch(form.dataset.previewUrl, { method: "POST", body: data, headers: { Accept: "application/json" } });
      if (!response.ok) return;
      answer = await response.json();
    } catch (e) { return; }
    const nodes = [];
    if (answer.error) {
      const p = document.createElement("p");
      p.className = "error";
      p.setAttribute("role", "alert");
      p.textContent = answer.error.message;
      nodes.push(p);
    }
    answer.previews.forEach((item) => {
      const label = document.createElement("p");
      label.className = "label small";
      label.textContent = item.label;
      const text = document.createElement("div");
      text.className = "preview-text";
      text.textContent = item.text;
      nodes.push(label, text);
    });
    box.replaceChildren(...nodes);
  };
  const schedule = () => { clearTimeout(timer); timer = setTimeout(render, 350); };
  bodies.forEach((area) => area.addEventListener("input", schedule));
  if (protocol) protocol.addEventListener("input", schedule);
  form.querySelector("[data-preview-button]").addEventListener("click", (ev) => { ev.preventDefault(); render(); });
  if (bodies.some((area) => area.value.trim())) render();
  // the department of the macro only matters for a department macro
  const scope = form.querySelector("#scope");
  const department = form.querySelector("#department");
  if (scope && department) {
    const field = department.closest(".field");
    const sync = () => { field.hidden = scope.value !== "department"; };
    scope.addEventListener("change", sync);
    sync();
  }
});
