"""Read a page's form as a browser would submit it, unchanged."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        name = attr.get("name")
        if tag == "input" and name and "disabled" not in attr:
            kind = attr.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self._add(name, attr.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                self._add(name, attr.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attr:
            self._add(self._select, attr.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_values(page: str) -> dict[str, str | list[str]]:
    """The fields of the page's form(s) with the values a browser would send for them."""
    reader = _FormReader()
    reader.feed(page)
    return {name: values[0] if len(values) == 1 else values
            for name, values in reader.values.items()}
