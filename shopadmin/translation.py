"""Messages in a staff member's language without Flask: Babel's own catalogues (translations/).

`translator(language)` is one language's catalogue, read once per process. Code that runs
without an app (the import's stages, the reading process, their tests) is given a language and
makes it the one its messages are written in with `speaking(language)`. The module's `gettext`,
`ngettext`, `pgettext` and the lazy `lazy_gettext`/`lazy_pgettext` (for strings defined at
import time, such as the field labels) write in the language spoken here, else in the one the
Flask side has chosen (i18n.py defers to Flask-Babel: the request's language, `force_locale`),
else they return the message as written (English), as Flask-Babel does outside an app.
Placeholders are filled as Flask-Babel fills them (`%(name)s`; ngettext adds `num`).

A language spoken here wins over Flask-Babel's, `force_locale` included: the Flask side leaves
the stages to follow its own choice, and speaks only where there is no app (the reading
process) or for a moment (each interface language's words and labels, read in turn).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from babel.support import NullTranslations, Translations

from .config import PROJECT_ROOT

CATALOGUES = PROJECT_ROOT / "translations"


class Messages(Protocol):
    """What writes messages in a language: a Translator, or Flask-Babel's module functions."""

    def gettext(self, string: str, **variables: Any) -> str: ...

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str: ...

    def pgettext(self, context: str, string: str, **variables: Any) -> str: ...


@dataclass(frozen=True)
class Translator:
    """One language's catalogue, filling placeholders the way Flask-Babel does."""

    language: str
    catalogue: NullTranslations

    def gettext(self, string: str, **variables: Any) -> str:
        text = self.catalogue.gettext(string)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return str(self.catalogue.ngettext(singular, plural, num)) % variables

    def pgettext(self, context: str, string: str, **variables: Any) -> str:
        text = str(self.catalogue.pgettext(context, string))
        return text % variables if variables else text


@lru_cache(maxsize=16)
def translator(language: str) -> Translator:
    """The catalogue of `language` (a language without one writes the messages as written)."""
    return Translator(language, Translations.load(str(CATALOGUES), [language]))


UNTRANSLATED = Translator("en", NullTranslations())
_speaking: ContextVar[Translator | None] = ContextVar("speaking", default=None)
_outer: list[Messages] = []  # the Flask side's choice of language, once i18n.py is loaded


@contextmanager
def speaking(language: str | Translator) -> Iterator[Translator]:
    """Messages made inside are written in `language` (this thread or task only)."""
    chosen = translator(language) if isinstance(language, str) else language
    token = _speaking.set(chosen)
    try:
        yield chosen
    finally:
        _speaking.reset(token)


def defer_to(messages: Messages) -> None:
    """Where no language is spoken here, write in the one `messages` chooses (i18n.py)."""
    _outer[:] = [messages]


def current() -> Messages:
    chosen = _speaking.get()
    if chosen is not None:
        return chosen
    return _outer[0] if _outer else UNTRANSLATED


def gettext(string: str, **variables: Any) -> str:
    return current().gettext(string, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    return current().ngettext(singular, plural, num, **variables)


def pgettext(context: str, string: str, **variables: Any) -> str:
    return current().pgettext(context, string, **variables)


class LazyString:
    """A message translated each time it is read, in the language of that moment. It behaves
    as Flask-Babel's LazyString does (a string to templates, forms and comparisons)."""

    def __init__(self, func, *args: Any, **kwargs: Any):
        self._func, self._args, self._kwargs = func, args, kwargs

    def __str__(self) -> str:
        return str(self._func(*self._args, **self._kwargs))

    def __getattr__(self, attr: str) -> Any:
        if attr == "__setstate__":
            raise AttributeError(attr)
        string = str(self)
        if hasattr(string, attr):
            return getattr(string, attr)
        raise AttributeError(attr)

    def __repr__(self) -> str:
        return f"l'{self}'"

    def __html__(self) -> str:
        return str(self)

    def __len__(self) -> int:
        return len(str(self))

    def __getitem__(self, key):
        return str(self)[key]

    def __iter__(self):
        return iter(str(self))

    def __contains__(self, item) -> bool:
        return item in str(self)

    def __add__(self, other):
        return str(self) + other

    def __radd__(self, other):
        return other + str(self)

    def __mul__(self, other):
        return str(self) * other

    def __rmul__(self, other):
        return other * str(self)

    def __lt__(self, other) -> bool:
        return str(self) < other

    def __le__(self, other) -> bool:
        return str(self) <= other

    def __eq__(self, other) -> bool:
        return str(self) == other

    def __ne__(self, other) -> bool:
        return str(self) != other

    def __gt__(self, other) -> bool:
        return str(self) > other

    def __ge__(self, other) -> bool:
        return str(self) >= other

    def __hash__(self) -> int:
        return hash(str(self))

    def __mod__(self, other):
        return str(self) % other

    def __rmod__(self, other):
        return other + str(self)


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyString:
    return LazyString(pgettext, context, string, **variables)
