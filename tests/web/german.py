"""Is a page German? Its visible text must hold no English message of the catalog (a run
of three words or more of an English msgid) and no text that reads as English (two or
more English function words in one piece of text). Codes, addresses and data are left
out: <code>, <pre>, form values and the brand."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parents[2] / "app/translations/de/LC_MESSAGES/messages.po"
#: Words that occur in English sentences and never in German ones.
ENGLISH_WORDS = frozenset(
    {"the", "and", "your", "you", "is", "are", "not", "with", "this", "that", "of", "for"}
    | {"has", "been", "be", "it", "there", "here", "please", "cannot", "can't", "don't"}
    | {"does", "who", "which", "when"}
)
#: Elements whose text is data or code, not wording.
SKIPPED = {"code", "pre", "script", "style", "textarea"}
#: Attributes people read.
READ_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pieces: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self._skipping += 1
        values = dict(attrs)
        self.pieces += [values[name] for name in READ_ATTRIBUTES if values.get(name)]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.pieces.append(values["value"])

    def handle_endtag(self, tag):
        if tag in SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.pieces.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    """The pieces of text a person reads on the page."""
    parser = _Text()
    parser.feed(html)
    return parser.pieces


@cache
def english_phrases() -> tuple[str, ...]:
    """Every run of three or more words between the placeholders of the catalog's
    English messages (lower-cased)."""
    with CATALOG.open("rb") as file:
        catalog = read_po(file)
    phrases = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        for msgid in filter(None, ids):
            for part in re.split(r"%\(\w+\)[sd]|%%", msgid):
                if len(part.split()) >= 3:
                    phrases.add(" ".join(part.split()).lower().strip(" .:;,"))
    return tuple(sorted(phrases))


def english_left(html: str) -> list[str]:
    """What on the page is still English (empty for a German page)."""
    pieces = visible_text(html)
    text = " ".join(pieces).lower()
    found = [f"catalog: {phrase!r}" for phrase in english_phrases() if phrase in text]
    for piece in pieces:
        words = set(re.findall(r"[a-z']+", piece.lower()))
        if len(words & ENGLISH_WORDS) >= 2:
            found.append(f"reads as English: {piece!r}")
    return found
