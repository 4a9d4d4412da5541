"""The funds pages and every email in French (issue 23): nothing left unmarked in their templates,
the French of translations/fr/LC_MESSAGES/messages.po on the pages and in the messages, and no English of
theirs left in any account or funds message once the shop writes in French."""

import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from models.base import db
from models.funds.adjustments import adjust
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.shop.settings import update_settings
from models.users.user import CUSTOMER
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import fund
from tests.i18n.catalogues import pseudo
from tests.i18n.catalogues import ROOT
from tests.i18n.catalogues import TRANSLATIONS
from tests.i18n.catalogues import without_translated
from tests.i18n.test_pseudo import ShownText
from tests.i18n.test_pseudo import UNTRANSLATED
from tests.i18n.test_pseudo import words_babel_writes
from tests.shop import test_email_links as emails

PART = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
TEMPLATES = [
    path
    for folder in ("templates/funds", "templates/email")
    for path in sorted((ROOT / folder).rglob("*"))
    if path.suffix in (".html", ".txt")
]
WORD = re.compile(r"[A-Za-z]{2,}")
JINJA = re.compile(r"\{%-?\s*trans\b.*?endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
SHOWN_ATTRIBUTE = re.compile(r'\s(?:title|alt|placeholder|aria-label|data-label)="([^"]*)"')
NOT_SHOWN = re.compile(r"<style.*?</style>|<!--.*?-->|<[^>]*>|&\w+;", re.DOTALL)
URL = re.compile(r"https?://\S+")


def compiled(folder, translate):
    """The funds part as a catalogue in `folder`: its French, or each message `translate(English)`."""
    with open(PART, "rb") as po:
        catalogue = read_po(po, locale="fr")
    for message in catalogue:
        if message.id:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            if translate is not None:
                message.string = tuple(map(translate, ids)) if message.pluralizable else translate(ids[0])
    target = Path(folder) / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as mo:
        write_mo(mo, catalogue)
    return str(folder)


@pytest.fixture
def translate():
    """How the funds part is written: in its French (None), or parametrized as `pseudo`."""
    return None


@pytest.fixture
def app_overrides(translate, tmp_path):
    return {"BABEL_TRANSLATION_DIRECTORIES": compiled(tmp_path / "translations", translate)}


@pytest.fixture
def make_customer(make_user):
    """Customers who read the shop in French."""
    return lambda **fields: make_user(CUSTOMER, **{"first_name": "Rena", "language": "fr", **fields})


def unmarked_words(template_source):
    """The words a template writes itself, outside its messages (`_`, `trans`) and its values: its
    text, and the attributes people read."""
    text = JINJA.sub(" ", template_source)
    shown = [word for value in SHOWN_ATTRIBUTE.findall(text) for word in WORD.findall(value)]
    return shown + WORD.findall(NOT_SHOWN.sub(" ", text))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT / "templates")))
def test_every_word_of_the_funds_and_email_templates_is_in_a_message(path):
    left = [word for word in unmarked_words(path.read_text()) if word not in UNTRANSLATED]
    assert not left, f"{path.name}: unmarked {left}"


def test_the_funds_pages_are_in_french_for_a_customer_who_reads_french(app, make_customer, owner):
    customer = make_customer()
    with app.test_request_context():
        fund(customer, 2600)
        adjust(customer, -50, "correction", "sorry for the wait", "", owner, "key-1")
    client = app.test_client()
    sign_in(client, customer)
    page = client.get("/account/funds").get_data(as_text=True)
    assert "<h1>Porte-monnaie</h1>" in page
    assert "25,50\u00a0€" in page  # the balance, as French writes it
    assert "Recharger" in page and "Top up" not in page
    history = client.get("/account/funds/history").get_data(as_text=True)
    # The memo, kept in English in the ledger, read in French.
    assert "Correction d’une erreur antérieure\u00a0: sorry for the wait" in history
    assert "Ajustement" in history and "Adjustment" not in history
    assert "2 mouvements, les plus récents d’abord." in history
    csv = client.get("/account/funds/history.csv").get_data(as_text=True)
    assert "Correction d’une erreur antérieure\u00a0: sorry for the wait" in csv
    credit = client.get("/account/credit/").get_data(as_text=True)
    assert "<h1>Paiement différé</h1>" in credit
    english_reader = make_customer(email="en@example.com", language="en")
    client = app.test_client()
    sign_in(client, english_reader)
    assert "<h1>Account funds</h1>" in client.get("/account/funds").get_data(as_text=True)


def test_a_refused_top_up_says_why_in_french_and_keeps_the_amount(app, make_customer):
    client = app.test_client()
    sign_in(client, make_customer())
    response = post_form(
        client,
        "/account/funds/top-up",
        {"amount": "9,99", "idempotency_key": "k" * 32},
        page="/account/funds",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "La recharge minimale est de 10,00\u00a0€." in page  # written where the rule is (top_ups.py)
    assert "<title>Erreur\u00a0: Porte-monnaie" in page
    assert 'value="9,99"' in page


def test_a_statement_is_written_in_its_customers_language(app, make_customer, owner):
    with app.app_context():
        to = emails.trigger_credit_statement(app, make_customer, owner)
    message = emails.latest_message(to, "credit_statement")
    assert message.subject.startswith("Votre relevé mensuel\u00a0: octobre 2026")
    assert "Bonjour Rena," in message.text_body
    assert "Solde au 1 oct. 2026\u00a0: 0,00\u00a0€" in message.text_body
    assert "Montant dû\u00a0: 30,00\u00a0€" in message.text_body
    assert '<html lang="fr">' in message.html_body
    assert "parce que vous avez un compte chez nous" in message.html_body  # the footer


def test_an_order_memo_reads_in_the_customers_language(app, make_customer):
    customer = make_customer()
    with app.test_request_context():
        fund(customer, 1000)
        legs = [Leg(account_for(customer), -1000, "spend"), Leg(system_account(SALES), 1000, "spend")]
        transfer("memo-order", "order", legs, memo="Order 2612-00042 by card")
    client = app.test_client()
    sign_in(client, customer)
    assert "Commande 2612-00042 par carte bancaire" in client.get("/account/funds/history").get_data(
        as_text=True
    )


# The account and funds messages: every word theirs. (Orders' and groups' messages show words of
# other parts too, the status of an order, a group's perks: tests/i18n/test_pseudo.py reads those.)
OWN_KINDS = sorted(
    kind for kind in emails.KINDS if not kind.startswith(("order_", "new_order", "application_", "group_"))
)


TYPED_IN_MESSAGES = {"Sorry", "about", "the", "delay"}  # the owner's message in balance_adjusted's trigger


def words_typed():
    """Every word of the database's text but the outbox's (the messages themselves)."""
    found = set()
    for table in db.get_tables():
        if table == "outbox_message":
            continue
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            found.update(word for value in row if isinstance(value, str) for word in WORD.findall(value))
    return found


@pytest.mark.parametrize("translate", [pseudo], ids=["pseudo"])
@pytest.mark.parametrize("kind", OWN_KINDS)
def test_no_english_is_left_in_a_message_written_in_french(app, make_customer, owner, kind):
    with app.app_context():
        update_settings({"locale": "fr_FR"})  # messages to addresses without an account too
        to = emails.KINDS[kind](app, make_customer, owner)
        allowed = UNTRANSLATED | words_typed() | words_babel_writes() | TYPED_IN_MESSAGES
    message = emails.latest_message(to, kind)
    html = ShownText()
    html.feed(re.sub(r"<title>.*?</title>", "", message.html_body))  # the subject: its sender's part
    for part, text in (("text", message.text_body), ("html", " ".join(html.parts))):
        text = URL.sub(" ", without_translated(text))
        left = sorted({word for word in WORD.findall(text) if word not in allowed})
        assert not left, f"{kind} {part}: English left: {left}"
