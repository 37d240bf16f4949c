"""Reading the page's forms the way a browser would, so tests click what the page draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden inputs and prefilled values
    action_ids: list[str] = field(default_factory=list)  # data-action-id inside the form
    buttons: list[str] = field(default_factory=list)  # button labels
    selects: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> options
    attrs: dict[str, str] = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._option: str | None = None
        self._textarea: str | None = None
        self._button = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), attrs=a)
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        if "data-action-id" in a:
            form.action_ids.append(a["data-action-id"])
        if tag == "input" and "name" in a:
            form.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name", "")
            form.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = a.get("value", "")
            self._text = []
            if "selected" in a:
                form.fields[self._select] = self._option
        elif tag == "textarea":
            self._textarea = a.get("name", "")
            self._text = []
        elif tag == "button":
            self._button = True
            self._text = []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if form is None:
            return
        text = "".join(self._text).strip()
        if tag == "option" and self._select is not None and self._option is not None:
            form.selects[self._select].append((self._option, text))
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form.fields[self._textarea] = "".join(self._text)
            self._textarea = None
        elif tag == "button" and self._button:
            form.buttons.append(text)
            self._button = False
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    return parser.forms


def form_with(html: str, action_id: str) -> Form:
    """The one form holding the element with this action_id."""
    found = [f for f in forms(html) if action_id in f.action_ids]
    assert len(found) == 1, f"{len(found)} forms with action_id {action_id!r}"
    return found[0]


def form_to(html: str, action: str) -> Form:
    """The first form posting to a URL ending in `action`."""
    found = [f for f in forms(html) if f.action.endswith(action)]
    assert found, f"no form posting to {action!r}"
    return found[0]
