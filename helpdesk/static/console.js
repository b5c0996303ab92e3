// Console enhancements (every page works without them): collision presence in the workspace and
// keyboard shortcuts. Texts come from the templates (translated there), never from this file.
(() => {
  "use strict";

  const typingIn = (el) =>
    !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

  // --- collision: who else has this demand open, who is typing ---------------------------
  const setupPresence = () => {
    const box = document.getElementById("presence");
    if (!box) return;
    const url = box.dataset.presenceUrl;
    const form = document.querySelector("form.compose-reply");
    const seen = form && form.elements.seen_last ? Number(form.elements.seen_last.value) : 0;
    let shown = "";
    let lastTyping = 0;
    const render = (data) => {
      const parts = [];
      if (data.text) parts.push(data.text);
      const fresh = form && data.last_public_id > seen;
      const key = parts.join("") + (fresh ? "|new" : "");
      if (key === shown) return; // unchanged: the live region stays quiet
      shown = key;
      box.textContent = parts.join("");
      if (fresh) {
        const note = document.createElement("span");
        note.className = "presence-new";
        note.textContent = (parts.length ? " · " : "") + box.dataset.newMessage + " ";
        const link = document.createElement("a");
        link.href = location.pathname + "#thread-end";
        link.textContent = box.dataset.reload;
        link.addEventListener("click", (ev) => { ev.preventDefault(); location.reload(); });
        note.appendChild(link);
        box.appendChild(note);
      }
      box.hidden = !box.textContent;
    };
    const send = async (typing) => {
      if (!typing && document.visibilityState === "hidden") return;
      const body = new URLSearchParams();
      if (typing) body.set("typing", "1");
      try {
        const r = await fetch(url, {
          method: "POST",
          headers: { "X-CSRFToken": box.dataset.csrf, Accept: "application/json" },
          body,
          credentials: "same-origin",
          cache: "no-store",
        });
        if (!r.ok || r.redirected) return; // signed out meanwhile: say nothing
        render(await r.json());
      } catch (e) { /* offline for a moment: the next tick tries again */ }
    };
    send(false);
    setInterval(() => send(false), 12000);
    const reply = document.getElementById("reply-body");
    if (reply) {
      reply.addEventListener("input", () => {
        const t = Date.now();
        if (t - lastTyping > 5000) { lastTyping = t; send(true); } // at most one every 5 s
      });
    }
  };

  // --- keyboard shortcuts --------------------------------------------------------------------
  const ROWS = "table.queue-table tbody tr";
  let current = -1;

  const select = (index) => {
    const rows = Array.from(document.querySelectorAll(ROWS));
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => {
      row.classList.toggle("kb-selected", i === current);
      if (i === current) {
        row.setAttribute("aria-selected", "true");
      } else {
        row.removeAttribute("aria-selected");
      }
    });
    const row = rows[current];
    row.tabIndex = -1;
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  };

  const openSelected = () => {
    const rows = document.querySelectorAll(ROWS);
    const row = rows[current];
    const link = row && row.querySelector("a[href].protocol-inline, a[href]");
    if (link) location.href = link.href;
  };

  const focusField = (...ids) => {
    // the first of `ids` that is on the page and shown
    const el = ids.map((id) => document.getElementById(id)).find((e) => e && !e.hidden);
    if (!el) return false;
    const details = el.closest("details");
    if (details) details.open = true;
    el.focus();
    el.scrollIntoView({ block: "center" });
    return true;
  };

  const setupShortcuts = () => {
    const dialog = document.getElementById("shortcuts-dialog");
    const openDialog = () => {
      if (!dialog) return;
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    };
    document.querySelectorAll("[data-shortcuts-open]").forEach((btn) =>
      btn.addEventListener("click", openDialog));
    if (dialog) {
      dialog.querySelectorAll("[data-shortcuts-close]").forEach((btn) =>
        btn.addEventListener("click", () => dialog.close()));
    }
    document.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented || ev.isComposing) return;
      if (dialog && dialog.open) return; // the dialog handles Esc itself (and keeps the focus)
      const active = document.activeElement;
      if (typingIn(active)) return;
      const onSelectedRow = active && active.matches && active.matches("tr.kb-selected");
      let handled = true;
      switch (ev.key) {
        case "?":
          openDialog();
          break;
        case "j":
          select(current + 1);
          break;
        case "k":
          select(current < 0 ? 0 : current - 1);
          break;
        case "o":
          if (current < 0) { handled = false; break; }
          openSelected();
          break;
        case "Enter":
          if (!onSelectedRow) { handled = false; break; }
          openSelected();
          break;
        case "r":
          handled = focusField("reply-body");
          break;
        case "n":
          handled = focusField("note-body");
          break;
        case "m":
          // the workspace's macro picker: its type-ahead filter when scripted, else its select
          handled = focusField("macro-picker", "macro-filter", "macro-choice");
          break;
        case "Escape":
          if (current < 0) { handled = false; break; }
          document.querySelectorAll(ROWS).forEach((row) => {
            row.classList.remove("kb-selected");
            row.removeAttribute("aria-selected");
          });
          current = -1;
          if (active && active.blur) active.blur();
          break;
        default:
          handled = false;
      }
      if (handled) ev.preventDefault();
    });
  };

  const start = () => { setupPresence(); setupShortcuts(); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
