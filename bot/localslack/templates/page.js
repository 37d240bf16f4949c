// Live updates without wiping what a person is typing, and small conveniences. Settings
// come from the body's data-* attributes: nothing is interpolated into this script.
(() => {
  const body = document.body;
  const composer = document.getElementById("composer");
  const draftKey = "localslack-draft:" + body.dataset.channel;
  if (composer) {
    const saved = sessionStorage.getItem(draftKey);
    sessionStorage.removeItem(draftKey);
    if (saved && !composer.value) composer.value = saved;
  }
  for (const box of document.querySelectorAll("#composer, textarea[data-enter-sends]")) {
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (box.value.trim()) box.form.requestSubmit();
      }
    });
  }
  const list = document.querySelector(".messages");
  if (list) list.scrollTop = list.scrollHeight;
  const first = document.querySelector(".modal .field :is(input, textarea, select)");
  if (first) first.focus();
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  for (const form of document.querySelectorAll("form[data-url]")) {
    form.addEventListener("submit", (event) => {
      if (!event.defaultPrevented) window.open(form.dataset.url, "_blank", "noopener");
    });
  }
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", (event) => {
      if (!event.defaultPrevented) form.classList.add("sending");
    });
  }
  // Never wipe an open modal, a half-typed message or a form on its way.
  const typing = (el) => el !== null && el.tagName === "TEXTAREA" && el.value.trim() !== "";
  const busy = () =>
    document.querySelector(".modal, form.sending") !== null ||
    typing(document.activeElement) ||
    (document.activeElement !== null && document.activeElement.tagName === "SELECT");
  async function poll() {
    if (busy()) return;
    try {
      const answer = await fetch(body.dataset.poll, { cache: "no-store" });
      const { version } = await answer.json();
      if (version === body.dataset.version || busy()) return;
      if (composer && composer.value) sessionStorage.setItem(draftKey, composer.value);
      location.reload();
    } catch (error) {
      // The server is restarting: try again on the next tick.
    }
  }
  setInterval(poll, Number(body.dataset.pollMs));
})();
