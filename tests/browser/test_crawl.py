"""Crawl every page a visitor, a customer and the owner can reach, and check each one.

Checks no one here wrote: axe-core on every page (no violations at any
impact), the Nu HTML Checker once over every page saved, and at a phone's
390 px width no horizontal scrolling, tap targets of at least 44 px (every control outside
running text: PHONE_CHECK) and hint text of at least 14 px.
"""

import json
import re
import subprocess
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import urldefrag
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import CUSTOMER_EMAIL
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# The one filter allowed: the checker does not know htmx's hx-* attributes.
VNU_HTMX_FILTER = r"Attribute “hx-[a-z-]+” not allowed on element “[a-z0-9-]+” at this point\."

# axe runs in two halves so several pages can be checked at once (see RoleCrawl).
AXE_START = "() => { window.axeRun = axe.run(document, {resultTypes: ['violations']}); }"
AXE_RESULT = "() => window.axeRun.then(results => results.violations)"

# A menu that marks two entries as the current page tells screen-reader users two things at once.
MENU_CHECK = """() => Array.from(document.querySelectorAll('nav'))
    .filter(nav => nav.querySelectorAll('[aria-current]').length > 1)
    .map(nav => `${nav.getAttribute('aria-label')} menu marks ` +
        Array.from(nav.querySelectorAll('[aria-current]')).map(a => a.textContent.trim()).join(' and '))"""

ROLES = {"visitor": None, "customer": CUSTOMER_EMAIL, "owner": OWNER_EMAIL}
# The crawl in French too (issue 23): a French browser's visitor, a customer with orders in every
# state, and the staff's admin pages; their browsers ask for French (Accept-Language).
FRENCH_ROLES = {"visitor-fr": None, "customer-fr": "dan@demo.shop", "staff-fr": "staff@demo.shop"}
# Pages no link leads to but every visitor can land on.


def opt_out_path(user_id):
    """The payment reminders' opt-out page, as a reminder email links it (works signed out)."""
    from itsdangerous import URLSafeSerializer

    from models.reminders.messages import OPT_OUT_SALT
    from tests.browser.serve import SECRET_KEY

    return f"/reminders/unsubscribe/{URLSafeSerializer(SECRET_KEY, salt=OPT_OUT_SALT).dumps(user_id)}"


EXTRA_PATHS = {
    "visitor": ["/no-such-page", opt_out_path(1)],
    "customer": ["/admin/"],  # 403 for customers
    # The demo's orders in each state (waiting, paid, dispatched), whatever other tests ordered since.
    "owner": ["/account/no-such-page", "/admin/orders/1", "/admin/orders/2", "/admin/orders/3"],
    "visitor-fr": ["/no-such-page", opt_out_path(1)],
    "customer-fr": ["/admin/"],
    "staff-fr": ["/admin/orders/1", "/admin/orders/2", "/admin/orders/3"],
}
SKIP_PREFIXES = ("/static/",)
MAX_PAGES_PER_ROLE = 200  # the owner reaches ~165 (VAT, invoices, legal pages and wording B added about 25)

# What a thumb must be able to hit on a phone, and the hint text that must stay readable there
# (issue 22): every visible control at least 44×44 CSS px, hints at least 14 px. One function
# of the page, returning a line per problem.
#
# - Controls: every link, button, field, select, text area, <summary> and [role=button].
# - A checkbox's or radio button's target is its label (a tap anywhere on it ticks the box):
#   the label's box is measured, not the box's own 16 px. One with no label is measured itself.
# - A link in running text is exempt (WCAG 2.5.8's inline exception): it is laid out inline
#   (display: inline, so it sits in a line of text) and the block around it holds letters or
#   digits outside any control ("read the <a>terms</a>", "Shop · <a>mail us</a>"). A link alone
#   in its block ("‹ Back to orders"), or one that CSS lays out as a box (flex item, inline-flex…),
#   is a control like any other, and so are links side by side with only punctuation between.
# - Not shown, not counted: hidden (display or visibility), visually hidden for screen readers
#   (a box of 1 px), or parked off-screen until focused (the skip link).
# - Hint text: .hint, <small>, [id$=-hint] and whatever a control names in aria-describedby.
PHONE_CHECK = r"""() => {
  const MIN_TARGET = 44, MIN_HINT = 14;
  const CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]";
  const shown = el => {
    const box = el.getBoundingClientRect();
    return el.checkVisibility({visibilityProperty: true}) && box.width > 1 && box.height > 1 && box.right > 0;
  };
  const blockAround = el => {
    let block = el.parentElement;
    while (block.parentElement && getComputedStyle(block).display === "inline") block = block.parentElement;
    return block;
  };
  // WCAG 2.5.8's inline exception: a link in a line of text, with words around it.
  const inRunningText = el => {
    if (!el.matches("a") || getComputedStyle(el).display !== "inline") return false;
    const walker = document.createTreeWalker(blockAround(el), NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      const holder = text.parentElement;
      if (!holder.closest(CONTROLS) && holder.checkVisibility() && /[\p{L}\p{N}]/u.test(text.data)) return true;
    }
    return false;
  };
  const targetOf = el => (el.matches("[type=checkbox], [type=radio]") && el.labels.length ? el.labels[0] : el);
  const describe = (el, box) => `${el.outerHTML.replace(/\s+/g, " ").slice(0, 90)} (${Math.round(box.width)}×${Math.round(box.height)})`;
  const problems = [];
  const targets = new Set(Array.from(document.querySelectorAll(CONTROLS)).filter(el => !inRunningText(el)).map(targetOf));
  for (const el of targets) {
    const box = el.getBoundingClientRect();
    if (shown(el) && (box.width < MIN_TARGET || box.height < MIN_TARGET)) problems.push(`tap target under 44 px: ${describe(el, box)}`);
  }
  const hints = new Set(document.querySelectorAll(".hint, small, [id$=-hint]"));
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const id of el.getAttribute("aria-describedby").split(/\s+/)) hints.add(document.getElementById(id));
  }
  hints.delete(null);
  for (const el of hints) {
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (shown(el) && el.textContent.trim() && size < MIN_HINT) problems.push(`hint text under 14 px (${size} px): ${describe(el, el.getBoundingClientRect())}`);
  }
  return problems;
}"""


@dataclass
class Visit:
    role: str
    path: str
    status: int
    html_file: Path
    axe_violations: list = field(default_factory=list)
    is_page: bool = True
    phone_problems: list = field(default_factory=list)
    menu_problems: list = field(default_factory=list)


# Files the shop links that the browser shows itself: checked to answer, not crawled as pages.
DOCUMENT_TYPES = ("application/pdf",)


def slug(role, path, suffix=""):
    name = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"
    return f"{role}--{name}{suffix}.html"


def axe_problems(page):
    """Every axe violation on the page as readable lines (all impact levels)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    page.evaluate(AXE_START)
    return describe_violations(page.evaluate(AXE_RESULT))


def describe_violations(violations):
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} "
                f"at {node['target']}: {node.get('failureSummary', '').replace(chr(10), ' ')}"
            )
    return lines


def phone_problems(phone, path):
    """What a phone user would trip over: sideways scrolling, tap targets under 44 px, small hints."""
    problems = []
    viewport = phone.evaluate("() => document.querySelector('meta[name=viewport]')?.content || ''")
    if "width=device-width" not in viewport:
        problems.append(f"{path}: no <meta name=viewport content=width=device-width>: phones would zoom out")
    try:
        assert_no_horizontal_scroll(phone)
    except AssertionError as problem:
        problems.append(str(problem).splitlines()[0])
    problems.extend(f"{path}: {problem}" for problem in phone.evaluate(PHONE_CHECK))
    return problems


DETAIL_ID = re.compile(r"/\d+(?=/|$)")
SAME_KIND_MAX = 4
QUERY_VARIANTS_MAX = 2  # a page's filtered views (?period=…) beyond the plain one


def same_site_links(page, origin):
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    paths = []
    for href in hrefs:
        url, _ = urldefrag(href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != origin or parts.path.startswith(SKIP_PREFIXES):
            continue
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


class RoleCrawl:
    """Breadth-first over the same-site links one role sees; each page checked wide and narrow.

    A step is split in two, `start` and `finish`, so the crawls of several roles
    run in lock-step: while Python waits for one page's axe run, the other roles'
    pages load and run axe in their own renderers.

    The phone check shrinks the same page to 390×844 CSS px rather than loading
    it again in an emulated phone: the layout is the same (the pages declare
    width=device-width and headless Chromium draws no scrollbars), and it
    halves the page loads. The htmx flows run on a real emulated phone.
    """

    def __init__(self, browser, origin, role, email, out_dir):
        self.origin, self.role, self.out_dir = origin, role, out_dir
        french = role in FRENCH_ROLES
        self.context, self.page = new_page(browser, origin, DESKTOP, locale="fr-FR" if french else "en-GB")
        self.context.add_init_script(script=AXE_SCRIPT)
        if email:
            sign_in_by_fields(self.page, email) if french else sign_in(self.page, email)
        self.queue = ["/", *EXTRA_PATHS[role]]
        self.seen = set(self.queue)
        self.kinds = {}
        self.visits = []
        self.current = None

    def _want(self, link):
        """Pages of one kind (/admin/orders/<id>, …) are alike: a few of each are enough, so
        the crawl stays the same size however many orders other browser tests made first.
        So are a page's filtered views (the reports' links keep their filters)."""
        parts = urlsplit(link)
        if parts.query:
            kind = f"{parts.path}?"
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            return self.kinds[kind] <= QUERY_VARIANTS_MAX
        kind = DETAIL_ID.sub("/<id>", parts.path)
        if kind == parts.path:
            return True
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return self.kinds[kind] <= SAME_KIND_MAX

    def start(self):
        """Load the next page and set axe going; False when there is nothing to finish."""
        path = self.queue.pop(0)
        html_file = self.out_dir / slug(self.role, path)
        try:
            response = self.page.goto(path)
        except PlaywrightError as error:
            if "Download is starting" not in error.message:
                raise
            # A file download (e.g. the customer's data export): check it answers, don't render it.
            download = self.page.request.get(path)
            self.visits.append(Visit(self.role, path, download.status, html_file, is_page=False))
            return False
        assert response is not None, path
        content_type = response.headers.get("content-type", "")
        if content_type.startswith(DOCUMENT_TYPES):  # an invoice's PDF, shown in the browser's viewer
            self.visits.append(Visit(self.role, path, response.status, html_file, is_page=False))
            return False
        assert "text/html" in content_type, f"{path} is not a page"
        html_file.write_bytes(response.body())
        self.page.evaluate(AXE_START)
        self.current = Visit(self.role, path, response.status, html_file)
        return True

    def finish(self):
        visit, self.current = self.current, None
        visit.axe_violations = describe_violations(self.page.evaluate(AXE_RESULT))
        visit.menu_problems = self.page.evaluate(MENU_CHECK)
        self.page.set_viewport_size(MOBILE)
        visit.phone_problems = phone_problems(self.page, visit.path)
        self.page.set_viewport_size(DESKTOP)
        self.visits.append(visit)
        for link in same_site_links(self.page, self.origin):
            if link not in self.seen and self._want(link):
                self.seen.add(link)
                self.queue.append(link)
        assert len(self.seen) <= MAX_PAGES_PER_ROLE, (
            f"{self.role} crawl found too many pages: {sorted(self.seen)}"
        )

    def close(self):
        self.context.close()


def checked_on_a_phone(page, visit):
    """`visit` with the phone's problems of the page as it is now (the error summary's links too)."""
    page.set_viewport_size(MOBILE)
    visit.phone_problems = phone_problems(page, visit.path)
    page.set_viewport_size(DESKTOP)
    return visit


def form_error_states(page, role, out_dir):
    """Forms re-rendered with errors (422) are pages too: check them the same way."""
    visits = []
    if role == "visitor":
        page.goto("/sign-in")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Sign in").click()
        html_file = out_dir / slug(role, "/sign-in", "-invalid")
        html_file.write_bytes(posted.value.body())
        page.wait_for_load_state()
        visit = Visit(role, "/sign-in (invalid)", posted.value.status, html_file, axe_problems(page))
        visits.append(checked_on_a_phone(page, visit))
        # The registration's first form, sent empty.
        page.goto("/account/")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/register/email")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Continue").click()
        page.locator(".error-summary").wait_for()
        html_file = out_dir / slug(role, "/register/email", "-invalid")
        html_file.write_text(page.content())
        visit = Visit(role, "/register/email (invalid)", posted.value.status, html_file, axe_problems(page))
        visits.append(checked_on_a_phone(page, visit))
        # The withdrawal function's first form (every page's footer links it), sent empty.
        page.goto("/withdraw")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Continue").click()
        page.locator(".error-summary").wait_for()
        html_file = out_dir / slug(role, "/withdraw", "-invalid")
        html_file.write_text(page.content())
        visit = Visit(role, "/withdraw (invalid)", posted.value.status, html_file, axe_problems(page))
        visits.append(checked_on_a_phone(page, visit))
    if role == "customer":
        visits.extend(cart_states(page, role, out_dir))
    if role == "owner":
        page.goto("/admin/settings")
        page.get_by_label("Time zone").fill("Mars/Olympus_Mons")
        page.get_by_label("Shop name").fill("")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Save settings").click()
        page.locator(".error-summary").wait_for()
        # htmx swapped in a fragment; save the whole page as the browser now has it.
        html_file = out_dir / slug(role, "/admin/settings", "-invalid")
        html_file.write_text(page.content())
        visit = Visit(role, "/admin/settings (invalid)", posted.value.status, html_file, axe_problems(page))
        visits.append(checked_on_a_phone(page, visit))
        page.goto("/admin/catalog/products/new")
        page.get_by_label("Price").fill("12.345")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Add product").click()
        page.locator(".error-summary").wait_for()
        html_file = out_dir / slug(role, "/admin/catalog/products/new", "-invalid")
        html_file.write_text(page.content())
        path = "/admin/catalog/products/new (invalid)"
        visit = Visit(role, path, posted.value.status, html_file, axe_problems(page))
        visits.append(checked_on_a_phone(page, visit))
    return visits


def cart_states(page, role, out_dir):
    """The cart with lines in it (the crawl only sees it empty), and a quantity htmx refused."""
    page.goto("/p/ethiopia-guji-250g")
    page.get_by_role("button", name="Add to cart").click()
    page.locator(".add-to-cart__done").wait_for()
    response = page.goto("/cart")
    html_file = out_dir / slug(role, "/cart", "-with-items")
    html_file.write_bytes(response.body())
    visits = [
        checked_on_a_phone(
            page, Visit(role, "/cart(with-items)", response.status, html_file, axe_problems(page))
        )
    ]
    quantity = page.get_by_label("Quantity of Ethiopia Guji, 250 g")
    quantity.fill("lots")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        quantity.press("Enter")
    page.locator(".cart-line .field-error").wait_for()
    html_file = out_dir / slug(role, "/cart", "-invalid")
    html_file.write_text(page.content())
    visit = Visit(role, "/cart (invalid)", posted.value.status, html_file, axe_problems(page))
    visits.append(checked_on_a_phone(page, visit))
    # Checkout needs a cart with items: the crawl can't reach it through links alone.
    response = page.goto("/checkout")
    html_file = out_dir / slug(role, "/checkout")
    html_file.write_bytes(response.body())
    visits.append(
        checked_on_a_phone(page, Visit(role, "/checkout", response.status, html_file, axe_problems(page)))
    )
    return visits


@pytest.fixture(scope="module")
def crawl(browser, live_server, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("crawl")
    crawls = []
    try:
        for role, email in {**ROLES, **FRENCH_ROLES}.items():
            crawls.append(RoleCrawl(browser, live_server, role, email, out_dir))
        while any(c.queue for c in crawls):
            started = [c for c in crawls if c.queue and c.start()]
            for c in started:
                c.finish()
        visits = []
        for c in crawls:
            visits.extend(c.visits)
            visits.extend(form_error_states(c.page, c.role, out_dir))
    finally:
        for c in crawls:
            c.close()
    return visits


def sign_in_by_fields(page, email, password=DEMO_PASSWORD):
    """Sign in through the real form, whatever language it speaks."""
    page.goto("/sign-in")
    page.locator("main form input[name=email]").fill(email)
    page.locator("main form input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/sign-in" not in page.url, f"sign-in as {email} failed: {page.locator('main').inner_text()}"


def test_crawl_reaches_the_pages_of_each_role(crawl):
    by_role = {role: {v.path for v in crawl if v.role == role} for role in ROLES}
    assert {"/", "/account/", "/cart", "/sign-in", "/c/tea", "/p/sencha-100g"} <= by_role["visitor"]
    legal = {"/legal/notice", "/legal/terms", "/legal/privacy", "/legal/withdrawal-form"}  # the footer's
    assert legal <= by_role["visitor"] and legal <= {v.path for v in crawl if v.role == "visitor-fr"}
    assert {"/admin/legal/", "/admin/legal/terms"} <= by_role["owner"]
    assert "/admin/" not in by_role["visitor"]
    assert {"/", "/account/", "/cart"} <= by_role["customer"]
    assert {"/admin/", "/admin/outbox", "/admin/settings"} <= by_role["owner"]
    assert {"/admin/catalog/products", "/admin/catalog/products/new", "/admin/catalog/categories"} <= by_role[
        "owner"
    ]
    assert any(path.startswith("/admin/catalog/products/") for path in by_role["owner"])
    assert any(path.startswith("/admin/outbox/") for path in by_role["owner"])
    statuses = {(v.role, v.path): v.status for v in crawl}
    assert statuses[("visitor", "/no-such-page")] == 404
    assert statuses[("visitor-fr", "/no-such-page")] == 404
    assert {"/", "/account/", "/account/orders"} <= {v.path for v in crawl if v.role == "customer-fr"}
    assert "/admin/orders" in {v.path for v in crawl if v.role == "staff-fr"}
    assert statuses[("customer", "/admin/")] == 403
    assert statuses[("visitor", "/sign-in (invalid)")] == 422
    assert statuses[("visitor", "/register/email (invalid)")] == 422
    assert statuses[("owner", "/admin/settings (invalid)")] == 422
    assert statuses[("owner", "/admin/catalog/products/new (invalid)")] == 422
    assert statuses[("customer", "/cart(with-items)")] == 200
    assert statuses[("customer", "/cart (invalid)")] == 422
    assert statuses[("customer", "/checkout")] == 200
    assert "/account/orders" in by_role["customer"]
    unexpected = [
        f"{v.role} {v.path}: {v.status}" for v in crawl if v.status >= 400 and v.status not in (403, 404, 422)
    ]
    assert not unexpected, unexpected


def test_every_page_passes_axe(crawl):
    problems = [f"{v.role} {v.path}: {line}" for v in crawl for line in v.axe_violations]
    assert not problems, "axe-core found:\n" + "\n".join(problems)


def test_every_menu_marks_at_most_one_current_page(crawl):
    problems = [f"{v.role} {v.path}: {line}" for v in crawl for line in v.menu_problems]
    assert not problems, "\n".join(problems)


# Proves in the same run that the checker reports errors and that the filter hides
# only htmx's attributes: exactly the missing alt below must be reported for it.
CANARY_HTML = """<!doctype html>
<html lang="en"><head><title>canary</title></head>
<body hx-boost="true"><div hx-headers='{"X-CSRFToken": "t"}'>
<form action="/x" method="post" hx-post="/x" hx-target="this" hx-swap="outerHTML"><img src="x.png"></form>
</div></body></html>
"""
CANARY_ERROR = "An “img” element must have an “alt” attribute"


def test_axe_check_reports_a_known_problem(page):
    page.set_content('<html lang="en"><title>canary</title><main><img src="x.png"></main></html>')
    assert any(line.startswith("image-alt (critical)") for line in axe_problems(page))


# What the phone check must report, and what it must leave alone (the rule in PHONE_CHECK's comment).
PHONE_CANARY_HTML = """<!doctype html><html lang="en"><title>canary</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>.big { display: inline-flex; min-height: 44px; min-width: 44px; } .tiny { font-size: 12px; } .hint { font-size: 14px; }</style>
<a href="#" style="position: absolute; left: -999px">Skip to content</a>
<p><a href="/back">Back to the outbox</a></p>
<p>Read the <a href="/terms">terms</a> first.</p>
<p><a href="/a">One</a> · <a href="/b">Two</a></p>
<p><a class="big" href="/big">Big enough</a></p>
<ul><li><a href="/listed">Alone in a list item</a></li></ul>
<label class="big"><input type="checkbox" name="fine"> A label big enough</label>
<label><input type="checkbox" name="small"> A small label</label>
<p hidden><a href="/hidden">Hidden</a></p>
<small class="hint">A readable hint</small>
<small class="tiny" id="code-hint">A hint of 12 px</small>
<input aria-describedby="described" name="code" class="big"><span id="described" class="tiny">Described</span>
</html>"""


def test_phone_check_reports_small_targets_and_hints_but_not_links_in_sentences(page):
    page.set_viewport_size(MOBILE)
    page.set_content(PHONE_CANARY_HTML)
    problems = "\n".join(page.evaluate(PHONE_CHECK))
    must_report = ["/back", "/a", "/b", "/listed", "A small label", "A hint of 12 px", "Described"]
    must_not = ["/terms", "/big", "A label big enough", "/hidden", "Skip to content", "A readable hint"]
    assert [text for text in must_report if text not in problems] == [], problems
    assert [text for text in must_not if text in problems] == [], problems


def test_every_page_is_valid_html(crawl, tmp_path):
    """One run of the Nu HTML Checker over every saved page; only htmx's attributes are filtered."""
    assert VNU_JAR.exists(), f"{VNU_JAR} is missing: run `make test-deps` (npm ci)"
    files = sorted({str(v.html_file) for v in crawl if v.is_page})
    assert len(files) >= 10, files
    canary = tmp_path / "canary.html"
    canary.write_text(CANARY_HTML)
    files.append(str(canary))
    result = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--format",
            "json",
            "--filterpattern",
            VNU_HTMX_FILTER,
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stderr or result.stdout)
    messages = [m for m in report["messages"] if m["type"] in ("error", "non-document-error")]
    canary_errors = [m["message"] for m in messages if m.get("url", "").endswith("/canary.html")]
    assert len(canary_errors) == 1 and canary_errors[0].startswith(CANARY_ERROR), (
        f"the checker or its filter is not working: {canary_errors}"
    )
    errors = [
        f"{m.get('url', '?').removeprefix('file:')}:{m.get('lastLine', '?')}: {m['message']}\n"
        f"    {m.get('extract', '')!r}"
        for m in messages
        if not m.get("url", "").endswith("/canary.html")
    ]
    assert not errors, "vnu found:\n" + "\n".join(errors)


def test_phone_width_has_no_horizontal_scroll_and_big_tap_targets(crawl):
    phone_pages = [v for v in crawl if v.is_page]
    assert len(phone_pages) >= 10
    problems = [f"{v.role} {line}" for v in phone_pages for line in v.phone_problems]
    assert not problems, "\n".join(problems)


def test_the_french_crawl_is_in_french(crawl):
    french = [v for v in crawl if v.role in FRENCH_ROLES and v.is_page]
    assert len(french) >= 30
    not_french = [v.path for v in french if '<html lang="fr">' not in v.html_file.read_text()]
    assert not not_french, not_french
