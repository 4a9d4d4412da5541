"""Builds static/css/pico-2.1.1.shop.min.css: Pico without the rules no page of the shop can use.

    .venv/bin/python scripts/trim-pico.py            # writes the trimmed file
    .venv/bin/python scripts/trim-pico.py --check    # exit 1 if it is not what the build gives

Pico (static/css/pico-2.1.1.min.css, 83 KB) styles every HTML element, component and theme;
the shop uses a part. A selector is kept when each thing it requires can occur in the shop's
HTML: its element names appear as tags (`<details`) and its classes, ids, attribute names and
`=` values as words in what writes HTML (templates, the Python of views, forms, models and
payments, static/js, WTForms' widgets). A rule keeps the selectors of its list that pass and
goes when none does. Nothing else changes, so what stays cascades as before.

Conservative on purpose, so nothing a page can show loses its style:
- states are never required: :hover, :focus, :checked, :disabled, [aria-invalid] on a word
  that exists, ::before... stay with their element;
- :not(…) requires nothing; :is/:where/:has(…) require one of their selectors;
- a word anywhere counts (a class built in Jinja, `'secondary' if … else 'outline'`);
- :host (a shadow root's host) goes: the shop has no shadow DOM;
- dark mode (prefers-color-scheme), print, reduced motion stay: they are @media blocks whose
  rules pass the same test; the themes forced by data-theme go (the shop never sets it);
- @keyframes stay when a kept declaration names them; @font-face, @supports and the rest stay.

tests/shop/test_assets.py runs `--check`, so a template using a Pico element or class that
was trimmed away fails the tests until this script is run again.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "static" / "css" / "pico-2.1.1.min.css"
TARGET = ROOT / "static" / "css" / "pico-2.1.1.shop.min.css"
TEMPLATES_AND_SCRIPTS = [("templates", "*.html"), ("static/js", "*.js")]
PYTHON_WRITING_HTML = ["views", "forms", "models", "payments"]  # their string literals only
STYLESHEETS = ["static/css/shop.css"]  # what they use of Pico's custom properties stays
ALWAYS_TAGS = {"html", "body", "head"}
WIDGET_TAGS = {  # WTForms widgets that write more than an <input>
    "Select": {"select", "option", "optgroup"},
    "TextArea": {"textarea"},
    "ListWidget": {"ul", "li", "label"},
    "TableWidget": {"table", "tr", "th", "td", "label"},
}


def form_fields(root):
    """(tags, input types) of the fields the shop's forms/ use, as their WTForms widgets write them."""
    import importlib
    import pkgutil

    sys.path.insert(0, str(root))
    try:
        import wtforms
    except ImportError:  # the script runs in the project's virtualenv
        sys.exit("run with the project's Python: .venv/bin/python scripts/trim-pico.py")
    tags, types = {"input", "label"}, {"hidden", "submit"}
    modules = [
        importlib.import_module(f"forms.{info.name}") for info in pkgutil.iter_modules([str(root / "forms")])
    ]
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, wtforms.Field):
                widgets = [getattr(value, "widget", None), getattr(value, "option_widget", None)]
                for widget in filter(None, widgets):
                    if getattr(widget, "input_type", None):
                        types.add(widget.input_type)
                    for klass in type(widget).__mro__:
                        tags |= WIDGET_TAGS.get(klass.__name__, set())
    return tags, types


ATTRIBUTE = re.compile(r"""([a-zA-Z_:][a-zA-Z0-9_:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
DYNAMIC = object()  # an attribute whose value a template computes: any value may occur


def note(attributes, name, value):
    name = name.replace("_", "-").lower()
    if attributes.get(name) is DYNAMIC:
        return
    if "{" in value:
        attributes[name] = DYNAMIC
    else:
        attributes.setdefault(name, set()).add(value)


def python_strings(source, attributes):
    """The string literals of a Python file; `{"attr": "value"}` and `attr="value"` also into `attributes`."""
    import ast

    strings = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
                    note(attributes, str(key.value), str(value.value))
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg and isinstance(keyword.value, ast.Constant):
                    note(attributes, keyword.arg, str(keyword.value.value))
    return strings


def vocabulary(root=ROOT):
    """(tags, words, attributes): element names written as tags, every word, and each attribute's
    values (`<input type="search">`, Jinja's `field(aria_invalid='true')`, WTForms' input types)."""
    texts, attributes = [], {}
    for folder, pattern in TEMPLATES_AND_SCRIPTS:
        texts += [path.read_text() for path in sorted((root / folder).rglob(pattern))]
    for text in list(texts):
        for name, double, single in ATTRIBUTE.findall(text):
            note(attributes, name, double or single)
    for folder in PYTHON_WRITING_HTML:
        for path in sorted((root / folder).rglob("*.py")):
            texts += python_strings(path.read_text(), attributes)
    text = "\n".join(texts)
    field_tags, input_types = form_fields(root)
    for input_type in input_types:
        note(attributes, "type", input_type)
    tags = (
        {tag.lower() for tag in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9-]*)", text)} | ALWAYS_TAGS | field_tags
    )
    words = set(re.findall(r"[A-Za-z0-9_-]+", text)) | field_tags | set(attributes)
    return tags, words, attributes


# Parsing minified CSS: enough for Pico (strings, comments, nested at-rules). ---------------------


def skip_string(css, index):
    quote = css[index]
    index += 1
    while css[index] != quote:
        index += 2 if css[index] == "\\" else 1
    return index + 1


def parse(css):
    """[(prelude, body or None)]: rules, at-rules with blocks and statements (`@charset …;`)."""
    items, start, index, depth, prelude = [], 0, 0, 0, None
    while index < len(css):
        char = css[index]
        if char in "\"'":
            index = skip_string(css, index)
            continue
        if css.startswith("/*", index):
            end = css.index("*/", index) + 2
            if depth == 0 and css.startswith("/*!", index):
                items.append((css[index:end], None))  # the licence comment stays
                start = end
            index = end
            continue
        if char == "{":
            if depth == 0:
                prelude, start = css[start:index].strip(), index + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                items.append((prelude, css[start:index]))
                start = index + 1
        elif char == ";" and depth == 0:
            items.append((css[start : index + 1].strip(), None))
            start = index + 1
        index += 1
    return items


def split_top(text, separator=","):
    """`text` split at `separator` outside parentheses, brackets and strings."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        if char in "\"'":
            index = skip_string(text, index)
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


SIMPLE = re.compile(
    r"""
    (?P<pseudo>::?[a-zA-Z-]+)(?P<arguments>\()?   # :hover, ::before, :not( …
  | \[(?P<attribute>[a-zA-Z_-]+)\s*(?:(?P<operator>[~|^$*]?=)\s*(?P<value>"[^"]*"|'[^']*'|[^\]\s]+)\s*[is]?\s*)?\]
  | \.(?P<class>[a-zA-Z0-9_-]+)
  | \#(?P<id>[a-zA-Z0-9_-]+)
  | (?P<tag>[a-zA-Z][a-zA-Z0-9-]*)
  | (?P<other>[*>+~\s]+|\|)
    """,
    re.VERBOSE,
)
ANY_OF = {":is", ":where", ":has", ":-moz-any", ":-webkit-any", ":matches"}


def closing_parenthesis(text, index):
    depth = 1
    while depth:
        char = text[index]
        if char in "\"'":
            index = skip_string(text, index)
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        index += 1
    return index  # just after the ")"


def can_match(selector, tags, words, attributes):
    """Whether every element, class, id and attribute the selector requires can be in a page."""
    index = 0
    while index < len(selector):
        found = SIMPLE.match(selector, index)
        if found is None:
            raise ValueError(f"cannot read the selector {selector!r} at {index}")
        index = found.end()
        if found["pseudo"] and found["pseudo"].lower() == ":host":
            return False  # a shadow root's host: the shop has none
        if found["pseudo"] and found["arguments"]:
            end = closing_parenthesis(selector, index)
            inside = selector[index : end - 1]
            index = end
            if found["pseudo"].lower() in ANY_OF and not any(
                can_match(part, tags, words, attributes) for part in split_top(inside)
            ):
                return False
        elif found["attribute"]:
            if found["attribute"] not in words:
                return False
            values = attributes.get(found["attribute"].lower(), set())
            if (
                found["operator"] == "="
                and values is not DYNAMIC
                and found["value"].strip("\"'") not in values
            ):
                return False
        elif found["class"] and found["class"] not in words:
            return False
        elif found["id"] and found["id"] not in words:
            return False
        elif found["tag"] and found["tag"].lower() not in tags:
            return False
    return True


def trim_rules(items, tags, words, attributes):
    out = []
    for prelude, body in items:
        if body is None:
            out.append(prelude)
        elif prelude.startswith("@"):
            name = prelude.split()[0].split("(")[0].lower()
            if name in ("@media", "@supports", "@layer", "@container", "@-moz-document"):
                inner = trim_rules(parse(body), tags, words, attributes)
                if inner:
                    out.append(f"{prelude}{{{''.join(inner)}}}")
            else:  # @keyframes (decided afterwards), @font-face, @page...
                out.append(f"{prelude}{{{body}}}")
        else:
            kept = [
                selector for selector in split_top(prelude) if can_match(selector, tags, words, attributes)
            ]
            if kept:
                out.append(f"{','.join(kept)}{{{body}}}")
    return out


def drop_unused_keyframes(css):
    items = parse(css)
    names = {prelude.split()[1] for prelude, body in items if body is not None and "keyframes" in prelude}
    kept_text = "".join(f"{p}{{{b}}}" for p, b in items if b is not None and "keyframes" not in p)
    used = {name for name in names if re.search(rf"animation[^;}}]*\b{re.escape(name)}\b", kept_text)}
    out = []
    for prelude, body in items:
        if body is not None and "keyframes" in prelude and prelude.split()[1] not in used:
            continue
        out.append(prelude if body is None else f"{prelude}{{{body}}}")
    return "".join(out)


DECLARATION = re.compile(r"(--[a-zA-Z0-9-]+)\s*:")


def declarations(body):
    return split_top(body, ";")


def drop_unused_properties(css, others):
    """Drops Pico's custom properties (`--pico-…: …`) that no kept declaration reaches."""
    rules = []

    def collect(items):
        for prelude, body in items:
            if body is None:
                continue
            if prelude.startswith("@") and "keyframes" not in prelude and "font-face" not in prelude:
                collect(parse(body))
            else:
                rules.append(body)

    collect(parse(css))
    defined = {}  # custom property -> the values it is given
    used_text = [others]
    for body in rules:
        for declaration in declarations(body):
            name = DECLARATION.match(declaration)
            if name:
                defined.setdefault(name[1], []).append(declaration)
            else:
                used_text.append(declaration)
    used = set(re.findall(r"var\((--[a-zA-Z0-9-]+)", " ".join(used_text)))
    todo = list(used)
    while todo:  # properties whose values name other properties
        for declaration in defined.get(todo.pop(), []):
            for name in re.findall(r"var\((--[a-zA-Z0-9-]+)", declaration):
                if name not in used:
                    used.add(name)
                    todo.append(name)

    def rewrite(items):
        out = []
        for prelude, body in items:
            if body is None:
                out.append(prelude)
            elif prelude.startswith("@") and "keyframes" not in prelude and "font-face" not in prelude:
                inner = rewrite(parse(body))
                if inner:
                    out.append(f"{prelude}{{{''.join(inner)}}}")
            else:
                kept = [
                    declaration
                    for declaration in declarations(body)
                    if declaration and not ((name := DECLARATION.match(declaration)) and name[1] not in used)
                ]
                if kept:
                    out.append(f"{prelude}{{{';'.join(kept)}}}")
        return out

    return "".join(rewrite(parse(css)))


def trimmed(source=SOURCE, root=ROOT):
    tags, words, attributes = vocabulary(root)
    css = "".join(trim_rules(parse(source.read_text()), tags, words, attributes))
    others = "\n".join((root / name).read_text() for name in STYLESHEETS)
    return drop_unused_keyframes(drop_unused_properties(css, others)) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the file is up to date")
    args = parser.parse_args()
    css = trimmed()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != css:
            sys.exit(f"{TARGET.relative_to(ROOT)} is out of date: run scripts/trim-pico.py")
        print(f"{TARGET.relative_to(ROOT)} is up to date")
        return
    TARGET.write_text(css)
    print(f"{SOURCE.name}: {SOURCE.stat().st_size:,} bytes -> {TARGET.name}: {len(css.encode()):,} bytes")


if __name__ == "__main__":
    main()
