"""The French catalogue is complete and current, and written with French typography (issue 23)."""

import io
import re

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.i18n.catalogues import extract
from tests.i18n.catalogues import TRANSLATIONS

FRENCH = TRANSLATIONS / "fr" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")
# French puts a no-break space before : ; ! ? and inside « » (a narrow one, U+202F, or U+00A0).
NO_BREAK = "\u00a0\u202f"
BAD_SPACING = re.compile(
    rf"[^{NO_BREAK}][;!?](?=\s|$|<)|[^{NO_BREAK}\d]:(?=\s|$)|«[^{NO_BREAK}]|[^{NO_BREAK}]»"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return extract(tmp_path_factory.mktemp("pot") / "messages.pot")


@pytest.fixture(scope="module")
def french():
    with open(FRENCH / "messages.po", "rb") as po:
        return read_po(po, locale="fr")


def forms(message):
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_marked_message_has_a_french_translation(template, french):
    missing = [
        message.id for message in template if message.id and not any(forms(french.get(message.id) or message))
    ]
    fuzzy = [message.id for message in french if message.id and message.fuzzy]
    assert not missing, f"{len(missing)} messages without French (make translations-update):\n" + "\n".join(
        map(str, missing[:50])
    )
    assert not fuzzy, "fuzzy French entries:\n" + "\n".join(map(str, fuzzy))


def test_the_french_catalogue_keeps_nothing_the_code_no_longer_says(template, french):
    said = {message.id for message in template}
    stale = [message.id for message in french if message.id and message.id not in said]
    assert not stale, "French entries for messages the code no longer has:\n" + "\n".join(
        map(str, stale[:50])
    )


def test_every_translation_keeps_the_placeholders(french):
    wrong = []
    for message in french:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set(PLACEHOLDER.findall(sources[-1]))
        for form in forms(message):
            different = set(PLACEHOLDER.findall(form)) ^ expected
            if form and different - {"%(num)d"}:  # a plural's singular may say "one" for %(num)d
                wrong.append(f"{sources[0]!r} → {form!r}")
    assert not wrong, "\n".join(wrong)


def test_french_typography_puts_no_break_spaces_before_double_punctuation(french):
    offenders = [
        f"{form!r}"
        for message in french
        if message.id
        for form in forms(message)
        if form and BAD_SPACING.search(PLACEHOLDER.sub("x", re.sub(r"<[^>]*>", "", form)))
    ]
    assert not offenders, "a space that may break (or none) before : ; ! ? or inside « »:\n" + "\n".join(
        offenders
    )


def test_the_committed_compiled_catalogue_is_the_current_one(french):
    compiled = io.BytesIO()
    write_mo(compiled, french)
    assert (FRENCH / "messages.mo").read_bytes() == compiled.getvalue(), "run `make translations`"
