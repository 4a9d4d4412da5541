"""The shop's default texts of its legal pages, in every language the shop speaks (issue 24).

Each page is a list of headings and paragraphs, each a message of the catalogue (French in
translations/), so a reader gets the default text in their language. Placeholders are filled with
the shop's settings when a page is read (models/shop/legal.py `default_text`); what only the owner
knows is a visible "[to fill in: …]" (FILL_IN) that the Legal pages list points out.

The defaults follow French and EU consumer law as we read it (the owner checks them: README,
"Legal pages"). The guarantee paragraphs follow the wording set by décret n° 2022-946 (art. D211-2
of the Code de la consommation); the withdrawal form is the model form of Annex I(B) of Directive
2011/83/EU (art. R221-1 of the Code de la consommation).
"""

from flask_babel import lazy_gettext

# Date of these default texts: a page's "Last updated" until the owner saves their own. Change it
# with any change of their meaning.
DEFAULTS_DATE = "2026-12-07"

# What only the owner can fill in. Pages and forms look for FILL_IN_START in every language.
FILL_IN = lazy_gettext("[to fill in: %(what)s]")
FILL_IN_START = lazy_gettext("[to fill in:")


def H(message):  # noqa: N802 - reads as the page's outline
    return ("heading", message)


def P(message):  # noqa: N802
    return ("paragraph", message)


NOTICE = [
    H(lazy_gettext("Publisher")),
    P(lazy_gettext("This site is published by:\n%(identity)s")),
    P(lazy_gettext("Email: %(email)s%(phone_line)s")),
    P(lazy_gettext("Director of publication: %(director)s")),
    H(lazy_gettext("Hosting")),
    P(lazy_gettext("This site is hosted by: %(host)s")),
    H(lazy_gettext("Consumer mediation")),
    P(
        lazy_gettext(
            "If a dispute with us is not settled after you have written to us about it, you may refer "
            "it free of charge to the following consumer mediator (articles L611-1 and following of "
            "the Code de la consommation): %(mediator)s"
        )
    ),
    H(lazy_gettext("Our other pages")),
    P(
        lazy_gettext(
            "Our terms of sale, our privacy policy and the model withdrawal form are linked at the "
            "foot of every page."
        )
    ),
]

TERMS = [
    H(lazy_gettext("1. Scope")),
    P(
        lazy_gettext(
            "These terms of sale apply to every order placed on this site with %(shop_name)s (“we”), "
            "whose details are in our legal notice. You can reach us at %(email)s%(phone_line)s."
        )
    ),
    H(lazy_gettext("2. Your order")),
    P(
        lazy_gettext(
            "You place an order by accepting these terms and pressing the button “Order with "
            "obligation to pay”. We confirm it by email; the confirmation includes these terms and "
            "the information on the legal guarantees. Your orders stay listed in My Account."
        )
    ),
    H(lazy_gettext("3. Prices")),
    P(
        lazy_gettext(
            "Prices are in %(currency)s and include VAT. The delivery price is shown before you "
            "order and added to the total."
        )
    ),
    H(lazy_gettext("4. Payment")),
    P(
        lazy_gettext(
            "You pay with the funds in your account, by card, by bank transfer when we offer it, or "
            "on account when your customer group allows it. An order that is still unpaid %(hours)s "
            "hours after it was placed is cancelled, and any amount held from your account is released."
        )
    ),
    H(lazy_gettext("5. Paying on account: no interest, no charges")),
    P(
        lazy_gettext(
            "Paying on account is a deferred payment we grant ourselves, up to the limit shown in "
            "your account. It is free of interest and charges: we charge no interest, no fees and no "
            "late-payment penalties, and no lender or other third party takes part. What you owe is "
            "due by the date on your monthly statement (%(credit_days)s days after it)."
        )
    ),
    H(lazy_gettext("6. Delivery")),
    P(
        lazy_gettext(
            "We deliver to the address and by the method you choose at checkout, which shows the "
            "expected time. If we do not deliver by the date agreed (or within 30 days of your order "
            "when none was given), you may ask us to deliver within a reasonable extra time and, "
            "failing that, end the contract and be refunded (articles L216-1 and following of the "
            "Code de la consommation). The goods are at our risk until you, or a person you name, "
            "take physical possession of them."
        )
    ),
    H(lazy_gettext("7. Right of withdrawal")),
    P(
        lazy_gettext(
            "You may withdraw from the contract within 14 days without giving any reason. The 14 "
            "days run from the day you, or a person you name other than the carrier, take physical "
            "possession of the goods (of the last item, for an order delivered in several parts)."
        )
    ),
    P(
        lazy_gettext(
            "To withdraw, tell us clearly before the 14 days are over: with the link “Withdraw from "
            "contract here” at the foot of every page or on your order's page in My Account, with "
            "the model withdrawal form, or by writing to %(email)s."
        )
    ),
    P(
        lazy_gettext(
            "Send the goods back to us without undue delay and at the latest 14 days after telling "
            "us; you pay the cost of returning them. We refund every payment received for the order, "
            "including the standard delivery price, within 14 days of hearing of your withdrawal, by "
            "the means you paid with (account funds go back to your account); we may wait until we "
            "have the goods back or proof that you sent them. You answer only for a loss in value "
            "caused by handling them beyond what is needed to see what they are, their "
            "characteristics and how they work."
        )
    ),
    P(
        lazy_gettext(
            "There is no right of withdrawal for the goods listed in article L221-28 of the Code de "
            "la consommation, such as goods made to your specifications or clearly personalised, "
            "goods that spoil quickly, and sealed goods unsealed after delivery that cannot be "
            "returned for reasons of hygiene or health protection. Such products say so on their page."
        )
    ),
    H(lazy_gettext("8. Legal guarantee of conformity")),
    P(
        lazy_gettext(
            "You have two years from the delivery of the goods to obtain the legal guarantee of "
            "conformity if a lack of conformity appears. During that time, you only need to show "
            "that the lack of conformity exists, not when it appeared."
        )
    ),
    P(
        lazy_gettext(
            "When the contract of sale includes the supply of digital content or a digital service "
            "for more than two years, the legal guarantee applies to that content or service for "
            "the whole period of supply. The legal guarantee of conformity obliges the seller to "
            "supply, where relevant, every update needed to keep the goods in conformity."
        )
    ),
    P(
        lazy_gettext(
            "The legal guarantee of conformity entitles you to have the goods repaired or replaced "
            "within thirty days of your request, free of charge and without major inconvenience to "
            "you. Goods repaired under the legal guarantee have their guarantee extended by six "
            "months. If you ask for a repair but the seller replaces the goods instead, the legal "
            "guarantee starts again for two years from the replacement."
        )
    ),
    P(
        lazy_gettext(
            "You may have the price reduced and keep the goods, or end the contract and be refunded "
            "in full against their return, if:\n1° the seller refuses to repair or replace the "
            "goods;\n2° the repair or replacement takes more than thirty days;\n3° the repair or "
            "replacement causes you major inconvenience, in particular when you bear for good the "
            "cost of taking back or removing the goods not in conformity, or the cost of installing "
            "the repaired or replacement goods;\n4° the goods are still not in conformity after the "
            "seller's unsuccessful attempt to bring them into conformity."
        )
    ),
    P(
        lazy_gettext(
            "You are also entitled to a price reduction or to end the contract when the lack of "
            "conformity is so serious that it justifies an immediate price reduction or ending of "
            "the contract; you then need not ask for a repair or a replacement first. You are not "
            "entitled to end the contract if the lack of conformity is minor. Any period during "
            "which the goods are out of use for their repair or replacement suspends the guarantee "
            "until they are delivered back to you."
        )
    ),
    P(
        lazy_gettext(
            "These rights result from articles L217-1 to L217-32 of the Code de la consommation. A "
            "seller who in bad faith obstructs the legal guarantee of conformity incurs a civil fine "
            "of up to 300,000 euros, which may be raised to 10%% of its average annual turnover "
            "(article L241-5 of the Code de la consommation)."
        )
    ),
    H(lazy_gettext("9. Guarantee against hidden defects")),
    P(
        lazy_gettext(
            "You also benefit from the legal guarantee against hidden defects (articles 1641 to 1649 "
            "of the Code civil) for two years from the discovery of the defect. It entitles you to a "
            "price reduction if you keep the goods, or to a full refund against their return."
        )
    ),
    H(lazy_gettext("10. Questions, complaints and mediation")),
    P(
        lazy_gettext(
            "Write to us first at %(email)s: we answer every message. If we cannot settle a dispute "
            "together, you may refer it free of charge to the consumer mediator named in our legal "
            "notice."
        )
    ),
    H(lazy_gettext("11. Personal data")),
    P(lazy_gettext("How we use your personal data is explained in our privacy policy.")),
    H(lazy_gettext("12. Applicable law")),
    P(
        lazy_gettext(
            "These terms are governed by French law. If you live in another country of the European "
            "Union, you keep the protection of the mandatory rules of the law of that country."
        )
    ),
]

PRIVACY = [
    H(lazy_gettext("Who is responsible")),
    P(
        lazy_gettext(
            "%(shop_name)s is responsible for the personal data collected on this site. Write to us "
            "at %(email)s about anything in this policy."
        )
    ),
    H(lazy_gettext("What we keep and why")),
    P(
        lazy_gettext(
            "To run your account and your orders (the contract between us): your name, email "
            "address, phone number and addresses, your orders, your payments and the movements of "
            "your account funds, and the emails we send you."
        )
    ),
    P(
        lazy_gettext(
            "To keep your account safe (our legitimate interest): the sign-ins to your account, with "
            "the internet address and browser they came from. To meet our legal obligations: "
            "invoices and accounting records."
        )
    ),
    H(lazy_gettext("Who receives it")),
    P(
        lazy_gettext(
            "Only those who help us serve you: the card payment provider, the carrier of your "
            "order, the provider that delivers our emails and the host of this site. We never sell "
            "your data."
        )
    ),
    H(lazy_gettext("How long we keep it")),
    P(
        lazy_gettext(
            "As long as your account is open. When you delete your account, we erase your personal "
            "data except what the law requires us to keep: orders, invoices and accounting records "
            "are kept for ten years (article L123-22 of the Code de commerce)."
        )
    ),
    H(lazy_gettext("Your rights")),
    P(
        lazy_gettext(
            "You may access, correct and erase your data, restrict or object to its use, and take a "
            "copy of it (My Account offers a download). Write to %(email)s. You may also complain "
            "to the CNIL (www.cnil.fr)."
        )
    ),
    H(lazy_gettext("Cookies")),
    P(
        lazy_gettext(
            "This site sets only the cookie it needs to work (your sign-in, your cart, your "
            "language). It sets no advertising or tracking cookies."
        )
    ),
]

WITHDRAWAL_FORM = [
    P(
        lazy_gettext(
            "The quickest way to withdraw from an order is the link “Withdraw from contract here” at "
            "the foot of every page, or your order's page in My Account. You may also fill in and "
            "send us this form, or any other clear statement, by email to %(email)s or by post."
        )
    ),
    H(lazy_gettext("Model withdrawal form")),
    P(lazy_gettext("(complete and return this form only if you wish to withdraw from the contract)")),
    P(lazy_gettext("To:\n%(identity)s\n%(email)s")),
    P(
        lazy_gettext(
            "I/We (*) hereby give notice that I/We (*) withdraw from my/our (*) contract of sale of "
            "the following goods (*)/for the provision of the following service (*):"
        )
    ),
    P(lazy_gettext("Ordered on (*)/received on (*):")),
    P(lazy_gettext("Name of consumer(s):")),
    P(lazy_gettext("Address of consumer(s):")),
    P(lazy_gettext("Signature of consumer(s) (only if this form is notified on paper):")),
    P(lazy_gettext("Date:")),
    P(lazy_gettext("(*) Delete as appropriate.")),
]

DEFAULTS = {
    "notice": NOTICE,
    "terms": TERMS,
    "privacy": PRIVACY,
    "withdrawal-form": WITHDRAWAL_FORM,
}
