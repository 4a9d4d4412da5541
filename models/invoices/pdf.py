"""An invoice or credit note (document.py) as a PDF, with fpdf2: pure Python, no system libraries.

The font is DejaVu Sans, shipped in fonts/ with its licence: it has €, accents, « » and the
narrow no-break space French puts before ; ! ? and in amounts, which the PDF core fonts lack.
Call it inside `in_language(document.language)`: words, amounts and dates come out in the
document's language.
"""

from pathlib import Path

from babel.dates import format_skeleton
from flask_babel import gettext
from fpdf import FPDF
from fpdf.fonts import FontFace

from models.invoices.document import CREDIT_NOTE
from models.invoices.document import VAT_NOT_APPLICABLE
from models.shop.language import active_locale
from models.shop.language import country_name
from models.shop.language import format_money
from models.shop.language import format_percent_bp

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
HEADINGS = FontFace(emphasis="BOLD", fill_color=(236, 236, 236))


def document_pdf(document):
    """The document as PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"{document.title} {document.number}")
    pdf.set_author(document.seller.name)
    pdf.set_creator("Shop")
    pdf.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    _head(pdf, document)
    _parties(pdf, document)
    if document.lines:
        _lines(pdf, document)
    if document.rates:
        _rates(pdf, document)
    _total(pdf, document)
    _payment(pdf, document)
    return bytes(pdf.output())


def _head(pdf, document):
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, f"{document.title} {document.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for label, value in _facts(document):
        pdf.cell(45, 6, label, new_x="RIGHT")
        pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _facts(document):
    facts = [(gettext("Date of issue"), _day(document.issued_on))]
    if document.kind == CREDIT_NOTE:
        facts.append((gettext("Corrects invoice"), document.refers_to))
    facts.append((gettext("Order"), document.order_number))
    if document.sale_on:
        facts.append((gettext("Date of sale"), _day(document.sale_on)))
    facts.append((gettext("Date of delivery"), _delivery(document)))
    return facts


def _delivery(document):
    if document.delivered_on:
        return _day(document.delivered_on)
    return gettext("To be collected") if document.pickup else gettext("To be delivered")


def _parties(pdf, document):
    y = pdf.get_y()
    width = (pdf.epw - 8) / 2
    _party(pdf, gettext("Seller"), _seller_lines(document.seller), pdf.l_margin, y, width)
    seller_bottom = pdf.get_y()
    _party(pdf, gettext("Billed to"), _buyer_lines(document.buyer), pdf.l_margin + width + 8, y, width)
    pdf.set_y(max(seller_bottom, pdf.get_y()) + 4)
    if document.pickup:
        _note(pdf, gettext("Collected at the shop"), document.delivery_method)
    elif document.recipient:
        place = ", ".join(_buyer_lines(document.recipient) + [document.delivery_method])
        _note(pdf, gettext("Delivered to"), place.rstrip(", "))
    pdf.ln(2)


def _note(pdf, heading, text):
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def _party(pdf, heading, lines, x, y, width):
    pdf.set_xy(x, y)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(width, 6, heading, new_x="LEFT", new_y="NEXT")
    for number, line in enumerate(lines):
        pdf.set_font(FONT, "B" if number == 0 else "", 10)  # the name stands out
        pdf.multi_cell(width, 5, line, new_x="LEFT", new_y="NEXT")


def _seller_lines(seller):
    lines = [seller.name, *seller.address]
    if seller.company_number:
        lines.append(gettext("Company number: %(number)s", number=seller.company_number))
    if seller.vat_number:
        lines.append(gettext("VAT number: %(number)s", number=seller.vat_number))
    if seller.mentions:
        lines.append(seller.mentions)
    if seller.email:
        lines.append(seller.email)
    return lines


def _buyer_lines(buyer):
    return [p for p in (buyer.name, buyer.company, *buyer.address, country_name(buyer.country)) if p]


def _lines(pdf, document):
    pdf.set_font(FONT, "", 9)
    headings = [gettext("Item"), gettext("Qty"), gettext("Unit price excl. VAT")]
    widths = (68, 12, 38)
    if document.vat_applies:
        headings.append(gettext("VAT rate"))
        widths += (26,)
    headings.append(gettext("Amount incl. VAT") if document.vat_applies else gettext("Amount"))
    widths += (30,)
    align = ("LEFT",) + ("RIGHT",) * (len(headings) - 1)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        text_align=align,
        headings_style=HEADINGS,
        line_height=6,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        table.row(headings)
        for line in document.lines:
            cells = [str(line.description), str(line.quantity), _money(line.unit_price_without_vat)]
            if document.vat_applies:
                cells.append(_rates_text(line.rates))
            cells.append(_money(line.total))
            table.row(cells)
    pdf.ln(4)


def _rates(pdf, document):
    pdf.set_font(FONT, "", 9)
    headings = [gettext("VAT rate"), gettext("Base excl. VAT"), gettext("VAT"), gettext("Total incl. VAT")]
    with pdf.table(
        col_widths=(30, 35, 30, 35),
        width=130,
        align="RIGHT",
        text_align="RIGHT",
        headings_style=HEADINGS,
        line_height=6,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        table.row(headings)
        for rate in document.rates:
            table.row([_rate(rate.rate_bp), _money(rate.base), _money(rate.vat), _money(rate.gross)])
    pdf.ln(4)


def _total(pdf, document):
    label = gettext("Total refunded") if document.kind == CREDIT_NOTE else gettext("Total")
    _figure(pdf, label, _money(document.total), bold=True, size=12)
    pdf.set_font(FONT, "", 9)
    if not document.vat_applies:
        pdf.cell(0, 6, str(VAT_NOT_APPLICABLE), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _figure(pdf, label, amount, bold=False, size=10, width=80):
    """A label and its amount on one line, right-aligned in the page's last `width` mm."""
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_x(pdf.l_margin + pdf.epw - width)
    pdf.cell(width - 35, 8 if bold else 6, label)
    pdf.cell(35, 8 if bold else 6, amount, align="R", new_x="LMARGIN", new_y="NEXT")


def _payment(pdf, document):
    pdf.set_font(FONT, "", 10)
    if document.kind == CREDIT_NOTE:
        if document.reason:
            pdf.multi_cell(0, 5, gettext("Reason: %(reason)s", reason=document.reason))
        return
    pdf.set_font(FONT, "B", 10)
    pdf.set_x(pdf.l_margin + pdf.epw - 80)
    pdf.cell(80, 6, gettext("How it was paid"), new_x="LMARGIN", new_y="NEXT")
    for payment in document.payments:
        _figure(pdf, str(payment.label), _money(payment.amount))
    if document.payment_terms:
        pdf.ln(2)
        pdf.multi_cell(0, 5, payment_terms_text(document))


def payment_terms_text(document):
    return gettext(
        "The part paid on account is due with your monthly statement, by %(date)s.",
        date=_day(document.payment_terms),
    )


def _money(amount):
    return format_money(amount).replace("-", "\u2212")


def _rate(rate_bp):
    return format_percent_bp(rate_bp) if rate_bp is not None else ""


def _rates_text(rates):
    return " / ".join(_rate(rate) for rate in rates)


def _day(day):
    return format_skeleton("yMMMd", day, locale=active_locale())
