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
  // "@name" completion, as in Slack: typing "@" and letters lists the members whose handle,
  // display name or real name starts with (then contains) them; a click, Enter or Tab puts
  // "@handle " in their place, which the server makes a mention. Members come from the page's
  // own members.json, fetched on the first "@"; names go in as text, never as markup.
  let members = null;
  function loadMembers() {
    if (members === null) {
      members = fetch(body.dataset.members, { cache: "no-store" })
        .then((answer) => (answer.ok ? answer.json() : { members: [] }))
        .then((data) => data.members)
        .catch(() => {
          members = null; // try again at the next "@"
          return [];
        });
    }
    return members;
  }
  // The "@…" being typed just before the caret, as payloads.with_mentions reads one.
  const TYPED = /(?:^|[^\w@&<|\/.;])@([A-Za-z0-9][\w.\-]*)$/;
  function fragment(box) {
    if (box.selectionStart !== box.selectionEnd) return null;
    const found = TYPED.exec(box.value.slice(0, box.selectionStart));
    if (!found) return null;
    return { query: found[1], start: box.selectionStart - found[1].length - 1 };
  }
  function matching(all, query) {
    const q = query.toLowerCase();
    const rank = (member) => {
      const names = [member.name, member.display_name, ...member.real_name.split(/\s+/)];
      const lower = names.filter(Boolean).map((n) => n.toLowerCase());
      if (lower.some((n) => n.startsWith(q))) return 0;
      if (lower.some((n) => n.includes(q)) || member.real_name.toLowerCase().includes(q)) return 1;
      return 2;
    };
    return all
      .map((member) => ({ member, rank: rank(member) }))
      .filter((m) => m.rank < 2)
      .sort((a, b) => a.rank - b.rank || a.member.name.localeCompare(b.member.name))
      .slice(0, 8)
      .map((m) => m.member);
  }
  const menu = document.createElement("ul");
  menu.className = "mentions";
  menu.id = "mention-suggestions";
  menu.setAttribute("role", "listbox");
  menu.setAttribute("aria-label", "People to mention");
  menu.hidden = true;
  // Pressing on a suggestion must not take the focus (and the caret) from the box.
  menu.addEventListener("mousedown", (event) => event.preventDefault());
  let shown = { box: null, found: [], active: 0 };
  function close() {
    menu.hidden = true;
    if (shown.box) shown.box.removeAttribute("aria-activedescendant");
    shown = { box: null, found: [], active: 0 };
  }
  function highlight(index) {
    shown.active = index;
    menu.querySelectorAll("li").forEach((item, i) => {
      item.setAttribute("aria-selected", String(i === index));
      if (i === index) {
        shown.box.setAttribute("aria-activedescendant", item.id);
        item.scrollIntoView({ block: "nearest" });
      }
    });
  }
  function open(box, found) {
    menu.replaceChildren();
    found.forEach((member, i) => {
      const item = document.createElement("li");
      item.id = "mention-" + i;
      item.setAttribute("role", "option");
      item.textContent = "@" + member.name;
      const other = member.real_name || member.display_name;
      if (other && other !== member.name) {
        const real = document.createElement("span");
        real.className = "real";
        real.textContent = other;
        item.append(real);
      }
      item.addEventListener("click", () => pick(box, i));
      menu.append(item);
    });
    box.parentElement.append(menu);
    menu.hidden = false;
    shown = { box, found, active: 0 };
    highlight(0);
  }
  function pick(box, index) {
    const typed = fragment(box);
    const member = shown.found[index];
    close();
    if (!typed || !member) return;
    box.setRangeText("@" + member.name + " ", typed.start, box.selectionStart, "end");
    box.focus();
  }
  let asked = 0; // answers to older keystrokes are dropped
  async function suggest(box) {
    const ask = ++asked;
    if (!fragment(box)) return close();
    const all = await loadMembers();
    const typed = fragment(box);
    if (ask !== asked) return;
    const found = typed ? matching(all, typed.query) : [];
    if (found.length) open(box, found);
    else close();
  }
  function completeMentions(box) {
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", menu.id);
    box.addEventListener("input", () => suggest(box));
    box.addEventListener("blur", close);
    // The caret moved without typing: what is before it may be another "@…", or none.
    box.addEventListener("click", () => suggest(box));
    box.addEventListener("keyup", (event) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) suggest(box);
    });
    box.addEventListener("keydown", (event) => {
      if (shown.box !== box || menu.hidden || event.isComposing) return;
      const count = shown.found.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        highlight((shown.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
      } else if (event.key === "Escape") {
        close();
      } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
        const typed = fragment(box);
        const member = shown.found[shown.active];
        // A whole handle already typed: Enter sends it as it is (Tab still completes).
        if (event.key === "Enter" && typed && member &&
            typed.query.toLowerCase() === member.name.toLowerCase()) {
          close();
          return;
        }
        pick(box, shown.active);
      } else {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
    });
  }
  const boxes = document.querySelectorAll("#composer, textarea[data-enter-sends]");
  // First, so that Enter or Tab on a suggestion completes it rather than sending.
  for (const box of boxes) completeMentions(box);
  for (const box of boxes) {
    box.addEventListener("keydown", (event) => {
      if (event.defaultPrevented) return;
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
