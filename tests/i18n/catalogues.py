"""The catalogues as the tests see them: every marked message extracted afresh, and a pseudo-French
catalogue that turns each of them into ⟦ŵŕàƥƥéð ţéẋţ⟧ so that any English left on a page or in an
email is English nobody marked."""

import re
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
SOURCES = ("shop.py", "views", "models", "forms", "jobs", "payments", "templates")
KEYWORDS = ("-k", "lazy_gettext", "-k", "lazy_ngettext:1,2")

# What a message keeps as it is: placeholders, markup, entities.
KEPT = re.compile(r"%\(\w+\)[sdifr]|%[sdif%]|<[^>]*>|&#?\w+;")
PSEUDO_LETTERS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥîĵķĺɱñôƥɋŕšţûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĹṀÑÔƤɊŔŠŢÛṼŴẊÝŽ",
)
OPEN, CLOSE = "⟦", "⟧"


def extract(pot_path):
    """Every marked message of the code and templates, into `pot_path` (as `make translations-update`)."""
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(TRANSLATIONS / "babel.cfg"), *KEYWORDS, "--omit-header",
         "-o", str(pot_path), *(str(ROOT / source) for source in SOURCES)]
    )  # fmt: skip
    with open(pot_path, "rb") as pot:
        return read_po(pot)


def pseudo(text):
    """`text` with every letter outside placeholders and markup swapped for an accented one, bracketed."""
    pieces, last = [], 0
    for kept in KEPT.finditer(text):
        pieces.append(text[last : kept.start()].translate(PSEUDO_LETTERS))
        pieces.append(kept.group(0))
        last = kept.end()
    pieces.append(text[last:].translate(PSEUDO_LETTERS))
    return OPEN + "".join(pieces) + CLOSE


def write_pseudo_catalogue(template, folder, language="fr"):
    """A compiled catalogue for `language` in `folder` whose every message is `pseudo`."""
    for message in template:
        if not message.id:
            continue
        if message.pluralizable:
            message.string = tuple(pseudo(form) for form in (message.id[0], message.id[1]))
        else:
            message.string = pseudo(message.id)
    target = Path(folder) / language / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "messages.mo", "wb") as mo:
        write_mo(mo, template)
    return folder


def without_translated(text):
    """`text` without the pseudo-translated parts (which may hold others: a message in a message)."""
    inner = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
    while True:
        text, found = inner.subn(" ", text)
        if not found:
            return text
