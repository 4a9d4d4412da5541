"""Product photos for the demo catalogue, drawn with Pillow when the demo is loaded.

Nothing is downloaded and no picture file is kept in the repository: each demo product's
picture is drawn from a few shapes (a coffee bag, a tea tin, a box, a dripper, a stack of
paper filters) in its own colours, on a soft studio background with a shadow, and carries a
label with the product's name, the way a small shop photographs its shelf. The drawing is
deterministic (the scattered beans and flowers come from a random generator seeded with the
product's slug; the label font is the one Pillow ships), so every demo shop looks the same.

`demo_picture(slug, name)` returns the picture as a Pillow image (1024 × 768); the demo
stores it like an upload, as WebP renditions in the database.
"""

import math
import random

from PIL import Image
from PIL import ImageChops
from PIL import ImageDraw
from PIL import ImageFilter
from PIL import ImageFont

WIDTH, HEIGHT = 1024, 768
SCALE = 2  # drawn at twice the size, then reduced: smooth edges
W, H = WIDTH * SCALE, HEIGHT * SCALE
FLOOR = int(H * 0.80)  # where objects stand

INK = (43, 37, 33)
CREAM = (246, 240, 226)

# slug -> (shape, body colour, accent colour, background top, background bottom)
LOOKS = {
    "house-blend-250g": ("bag", (176, 138, 94), (120, 62, 38), (244, 236, 224), (221, 205, 184)),
    "ethiopia-guji-250g": ("bag", (46, 104, 110), (214, 150, 76), (236, 240, 236), (203, 214, 207)),
    "decaf-colombia-250g": ("bag", (112, 44, 56), (226, 178, 92), (244, 234, 230), (222, 204, 198)),
    "assam-breakfast-100g": ("tin", (142, 43, 43), (202, 162, 84), (242, 233, 226), (219, 200, 188)),
    "sencha-100g": ("tin", (79, 122, 58), (196, 200, 196), (237, 241, 230), (206, 216, 196)),
    "chamomile-flowers-50g": ("box", (226, 180, 66), (120, 96, 40), (246, 242, 228), (226, 217, 190)),
    "pour-over-dripper": ("dripper", (238, 236, 230), (176, 138, 94), (226, 232, 238), (190, 201, 212)),
    "paper-filters-100": ("filters", (222, 200, 160), (90, 70, 50), (238, 236, 232), (212, 206, 198)),
}
DEFAULT_LOOK = ("bag", (150, 130, 110), (80, 60, 40), (240, 236, 230), (214, 206, 196))


def demo_picture(slug, name):
    """The demo product's photo as a 1024 × 768 RGB image."""
    shape, body, accent, top, bottom = LOOKS.get(slug, DEFAULT_LOOK)
    rng = random.Random(slug)  # noqa: S311 - scatters beans, deterministically
    canvas = _background(top, bottom)
    title, detail = _label_text(name)
    DRAW[shape](canvas, body, accent, title, detail, rng)
    # Framed closer, as a shop photographs its shelf: the product fills most of the picture.
    crop = (int(W * 0.06), int(H * 0.06), int(W * 0.94), int(H * 0.94))
    return canvas.crop(crop).resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS).convert("RGB")


def _label_text(name):
    """('House blend', '250 g') from 'House blend, 250 g'."""
    title, _, detail = name.partition(", ")
    return title, detail


# Colours and light --------------------------------------------------------------


def _mix(a, b, t):
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def _vertical(size, top, bottom):
    gradient = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)


def _background(top, bottom):
    """A studio sweep: light from the top, a table that fades into the wall, a soft glow.
    Drawn at a quarter of the size (it has no edges) and enlarged."""
    size = (W // 4, H // 4)
    floor_y = FLOOR // 4
    wall = _vertical(size, top, _mix(bottom, top, 0.3))
    table = _vertical(size, _mix(bottom, top, 0.15), _mix(bottom, (0, 0, 0), 0.07))
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle((0, floor_y - 40, size[0], size[1]), fill=255)
    canvas = Image.composite(table, wall, mask.filter(ImageFilter.GaussianBlur(22)))
    glow = Image.new("L", size, 0)
    ImageDraw.Draw(glow).ellipse((size[0] * 0.2, -size[1] * 0.1, size[0] * 0.8, size[1] * 0.75), fill=150)
    light = Image.new("RGB", size, _mix(top, (255, 255, 255), 0.6))
    canvas = Image.composite(light, canvas, glow.filter(ImageFilter.GaussianBlur(60)))
    return canvas.resize((W, H), Image.Resampling.BICUBIC)


def _region(box, margin):
    """`box` grown by `margin` on each side and kept inside the canvas."""
    x0, y0, x1, y1 = box
    return (
        max(int(x0 - margin), 0),
        max(int(y0 - margin), 0),
        min(int(x1 + margin), W),
        min(int(y1 + margin), H),
    )


def _shadow(canvas, box, strength=0.45, blur=40):
    """A soft shadow on the table under an object: `box` is the ellipse it casts."""
    region = _region(box, blur * 3)
    rx0, ry0, rx1, ry1 = region
    small = 4
    size = (max((rx1 - rx0) // small, 1), max((ry1 - ry0) // small, 1))
    mask = Image.new("L", size, 0)
    x0, y0, x1, y1 = box
    ImageDraw.Draw(mask).ellipse(
        ((x0 - rx0) / small, (y0 - ry0) / small, (x1 - rx0) / small, (y1 - ry0) / small),
        fill=int(255 * strength),
    )
    mask = mask.filter(ImageFilter.GaussianBlur(blur / small)).resize(
        (rx1 - rx0, ry1 - ry0), Image.Resampling.BILINEAR
    )
    canvas.paste((40, 30, 24), region, mask)


def _round_light(layer, mask, low=0.62, high=1.0, peak=0.34, shine=0.22):
    """Light a flat-coloured object as if it were round: darker towards its sides, a soft
    highlight a third of the way across. Returns (the lit object as RGBA, where it goes)."""
    box = mask.getbbox()
    layer, mask = layer.crop(box), mask.crop(box)
    width, height = mask.size
    row = []
    for x in range(width):
        t = x / width
        light = math.cos((t - peak) * math.pi / (2 * max(peak, 1 - peak)))
        row.append(round(255 * (low + (high - low) * max(light, 0.0))))
    shade = Image.new("L", (width, 1))
    shade.putdata(row)
    shade = shade.resize((width, height))
    lit = ImageChops.multiply(layer.convert("RGB"), Image.merge("RGB", (shade, shade, shade)))
    gleam = Image.new("L", (width, 1), 0)
    gx = int(width * (peak - 0.06))
    ImageDraw.Draw(gleam).line((gx, 0, gx + max(int(width * 0.07), 4), 0), fill=int(255 * shine))
    gleam = gleam.filter(ImageFilter.GaussianBlur(max(width // 30, 2))).resize((width, height))
    lit.paste((255, 255, 255), (0, 0), ImageChops.multiply(gleam, mask))
    lit.putalpha(mask)
    return lit, box[:2]


# Labels -------------------------------------------------------------------------


def _font(size):
    return ImageFont.load_default(size=size)


def _fit(draw, text, max_width, size):
    """The largest font up to `size` that fits `text` into `max_width`."""
    while size > 10:
        font = _font(size)
        if draw.textlength(text, font=font) <= max_width:
            return font
        size -= 2
    return _font(size)


def _lines(draw, text, max_width, size):
    """`text` on one line, or on two when one would need a much smaller font."""
    font = _fit(draw, text, max_width, size)
    words = text.split()
    if font.size >= size * 0.8 or len(words) < 2:
        return [text], font
    best = None
    for cut in range(1, len(words)):
        lines = [" ".join(words[:cut]), " ".join(words[cut:])]
        longest = max(lines, key=lambda line: draw.textlength(line, font=_font(size)))
        candidate = _fit(draw, longest, max_width, size)
        if best is None or candidate.size > best[1].size:
            best = (lines, candidate)
    return best


def _label(layer, box, title, detail, accent, paper=CREAM, mark="SMALL BATCH"):
    """A printed label: a small mark, the product's name, its weight, a rule in the accent."""
    draw = ImageDraw.Draw(layer)
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    draw.rounded_rectangle(box, radius=int(width * 0.05), fill=paper)
    inner = width * 0.82
    mark_font = _fit(
        ImageDraw.Draw(layer), mark, width * 0.7, max(min(int(height * 0.085), int(width * 0.075)), 12)
    )
    cx = (x0 + x1) / 2
    draw.text((cx, y0 + height * 0.14), mark, font=mark_font, fill=accent, anchor="mm")
    draw.line(
        (cx - width * 0.12, y0 + height * 0.25, cx + width * 0.12, y0 + height * 0.25), fill=accent, width=4
    )
    lines, font = _lines(draw, title, inner, int(height * 0.2))
    line_height = font.size * 1.12
    top = y0 + height * (0.52 if detail else 0.58) - line_height * (len(lines) - 1) / 2
    for i, line in enumerate(lines):
        draw.text(
            (cx, top + i * line_height),
            line,
            font=font,
            fill=INK,
            anchor="mm",
            stroke_width=1,
            stroke_fill=INK,
        )
    if detail:
        detail_font = _fit(draw, detail, inner, int(height * 0.12))
        draw.text(
            (cx, y0 + height * 0.83), detail, font=detail_font, fill=_mix(INK, paper, 0.25), anchor="mm"
        )


# Shapes -------------------------------------------------------------------------


def _bag(canvas, body, accent, title, detail, rng):
    """A stand-up coffee bag with a crimped top, a valve and a label, beans in front."""
    cx, bottom = W // 2, FLOOR + 30
    half, top = int(W * 0.17), int(H * 0.13)
    _shadow(canvas, (cx - half - 60, bottom - 60, cx + half + 140, bottom + 70), strength=0.5)
    layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    mask = Image.new("L", (W, H), 0)
    shape = ImageDraw.Draw(mask)
    shape.polygon(
        [
            (cx - half, top + 60),
            (cx + half, top + 60),
            (cx + half + 22, bottom - 70),
            (cx - half - 22, bottom - 70),
        ],
        fill=255,
    )
    shape.rounded_rectangle((cx - half - 22, bottom - 220, cx + half + 22, bottom), radius=70, fill=255)
    shape.rectangle((cx - half, top, cx + half, top + 80), fill=255)
    draw = ImageDraw.Draw(layer)
    draw.rectangle((0, 0, W, H), fill=body)
    seal = _mix(body, (0, 0, 0), 0.18)
    draw.rectangle((cx - half, top, cx + half, top + 70), fill=seal)
    for x in range(cx - half, cx + half, 14):  # the crimp
        draw.line((x, top + 6, x, top + 64), fill=_mix(seal, (0, 0, 0), 0.2), width=3)
    draw.line(
        (cx - half, top + 96, cx + half, top + 96), fill=_mix(body, (0, 0, 0), 0.12), width=5
    )  # the zip
    for dx in (-half * 0.55, half * 0.55):  # soft folds of the gusset at the base
        draw.line(
            (cx + dx, bottom - 150, cx + dx * 1.08, bottom - 8), fill=_mix(body, (0, 0, 0), 0.1), width=6
        )
    vx, vy = cx, top + 170
    draw.ellipse((vx - 30, vy - 30, vx + 30, vy + 30), fill=_mix(body, (0, 0, 0), 0.22))
    draw.ellipse((vx - 14, vy - 14, vx + 14, vy + 14), fill=_mix(body, (255, 255, 255), 0.25))
    label_w, label_h = int(half * 1.55), int((bottom - top) * 0.44)
    label_top = top + int((bottom - top) * 0.34)
    _label(
        layer, (cx - label_w // 2, label_top, cx + label_w // 2, label_top + label_h), title, detail, accent
    )
    _paste(canvas, *_round_light(layer, mask, low=0.72, peak=0.36, shine=0.16))
    _beans(canvas, rng, cx + half + 60, bottom + 20)


def _beans(canvas, rng, x, y):
    """A few roasted beans on the table beside the bag."""
    for _ in range(9):
        bx, by = x + rng.randint(-40, 220), y + rng.randint(-70, 0)
        bean = Image.new("RGBA", (150, 150), (0, 0, 0, 0))
        bd = ImageDraw.Draw(bean)
        bd.ellipse((22, 42, 128, 108), fill=(74, 44, 28, 255))
        bd.ellipse((32, 48, 96, 82), fill=(106, 66, 42, 255))
        bd.arc((36, 50, 118, 104), start=195, end=335, fill=(34, 20, 12, 255), width=7)
        bean = bean.rotate(rng.uniform(0, 180), resample=Image.Resampling.BICUBIC)
        _shadow(canvas, (bx + 10, by + 78, bx + 150, by + 122), strength=0.4, blur=14)
        canvas.paste(bean, (bx, by), bean)


def _tin(canvas, body, accent, title, detail, rng):
    """A round tea tin with a metal lid and a wrap-around label, a few leaves beside it."""
    cx, bottom = W // 2, FLOOR + 40
    half, top = int(W * 0.14), int(H * 0.2)
    depth = int(half * 0.32)  # the ellipse of the rim, seen from a little above
    _shadow(canvas, (cx - half - 40, bottom - depth - 10, cx + half + 150, bottom + depth + 30), strength=0.5)
    mask = Image.new("L", (W, H), 0)
    shape = ImageDraw.Draw(mask)
    shape.rectangle((cx - half, top, cx + half, bottom), fill=255)
    shape.ellipse((cx - half, bottom - depth, cx + half, bottom + depth), fill=255)
    shape.ellipse((cx - half, top - depth, cx + half, top + depth), fill=255)
    layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rectangle((0, 0, W, H), fill=body)
    lid = int((bottom - top) * 0.2)
    draw.rectangle((0, 0, W, top + lid), fill=accent)
    draw.ellipse((cx - half, top + lid - depth, cx + half, top + lid + depth), fill=accent)
    draw.arc(
        (cx - half, top + lid - depth, cx + half, top + lid + depth),
        0,
        180,
        fill=_mix(accent, (0, 0, 0), 0.35),
        width=6,
    )
    label_top, label_bottom = top + lid + depth + 50, bottom - 70
    draw.rectangle((cx - half, label_top, cx + half, label_bottom), fill=CREAM)
    for y in (label_top + 12, label_bottom - 12):
        draw.line((cx - half, y, cx + half, y), fill=accent if accent != CREAM else body, width=5)
    _label(
        layer,
        (cx - half + 30, label_top + 24, cx + half - 30, label_bottom - 24),
        title,
        detail,
        body,
        mark="LOOSE LEAF TEA",
    )
    lit = _round_light(layer, mask, low=0.5, peak=0.33, shine=0.3)
    face_box = (cx - half + 4, top - depth + 4, cx + half - 4, top + depth - 4)
    face_size = (face_box[2] - face_box[0], face_box[3] - face_box[1])
    face = Image.new("L", face_size, 0)
    ImageDraw.Draw(face).ellipse((0, 0, *face_size), fill=255)
    top_colour = _mix(accent, (255, 255, 255), 0.3)
    top_layer = _vertical(
        face_size, _mix(top_colour, (255, 255, 255), 0.35), _mix(top_colour, (0, 0, 0), 0.15)
    )
    _paste(canvas, *lit)
    canvas.paste(top_layer, face_box[:2], face)
    ImageDraw.Draw(canvas).ellipse(
        (cx - half + 4, top - depth + 4, cx + half - 4, top + depth - 4),
        outline=_mix(accent, (0, 0, 0), 0.25),
        width=4,
    )
    _leaves(canvas, rng, cx + half + 60, bottom - 10, _mix(body, (60, 80, 40), 0.7))


def _leaves(canvas, rng, x, y, colour):
    for _ in range(7):
        lx, ly = x + rng.randint(-20, 200), y + rng.randint(-40, 10)
        leaf = Image.new("RGBA", (150, 150), (0, 0, 0, 0))
        ld = ImageDraw.Draw(leaf)
        ld.chord((14, 40, 136, 110), 180, 360, fill=(*colour, 255))
        ld.chord((14, 40, 136, 110), 0, 180, fill=(*_mix(colour, (0, 0, 0), 0.15), 255))
        ld.line((18, 75, 132, 75), fill=(*_mix(colour, (0, 0, 0), 0.35), 255), width=4)
        leaf = leaf.rotate(rng.uniform(0, 180), resample=Image.Resampling.BICUBIC)
        _shadow(canvas, (lx + 10, ly + 70, lx + 140, ly + 110), strength=0.3, blur=14)
        canvas.paste(leaf, (lx, ly), leaf)


def _box(canvas, body, accent, title, detail, rng):
    """A small card box seen from a little above and to the left, with chamomile flowers."""
    cx, bottom = W // 2 - 40, FLOOR + 50
    half, height, side, lift = int(W * 0.13), int(H * 0.5), int(W * 0.07), int(H * 0.05)
    top = bottom - height
    _shadow(canvas, (cx - half - 40, bottom - 50, cx + half + side + 160, bottom + 60), strength=0.5)
    draw = ImageDraw.Draw(canvas)
    front = (cx - half, top, cx + half, bottom)
    draw.polygon(  # the side in shade
        [
            (cx + half, top),
            (cx + half + side, top - lift),
            (cx + half + side, bottom - lift),
            (cx + half, bottom),
        ],
        fill=_mix(body, (0, 0, 0), 0.3),
    )
    draw.polygon(  # the top, in the light
        [(cx - half, top), (cx - half + side, top - lift), (cx + half + side, top - lift), (cx + half, top)],
        fill=_mix(body, (255, 255, 255), 0.3),
    )
    face = _vertical(
        (front[2] - front[0], height), _mix(body, (255, 255, 255), 0.08), _mix(body, (0, 0, 0), 0.08)
    )
    canvas.paste(face, front[:2])
    layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    _label(
        layer,
        (cx - half + 34, top + 70, cx + half - 34, bottom - 60),
        title,
        detail,
        accent,
        mark="HERBAL INFUSION",
    )
    _paste(canvas, layer)
    for _ in range(4):
        _flower(canvas, cx + half + side + rng.randint(90, 260), bottom + rng.randint(-60, 0), rng)


def _flower(canvas, x, y, rng):
    size = rng.randint(110, 150)
    flower = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
    fd = ImageDraw.Draw(flower)
    for i in range(14):
        a = i * math.tau / 14
        px, py = size + math.cos(a) * size * 0.55, size + math.sin(a) * size * 0.3
        fd.ellipse(
            (px - size * 0.3, py - size * 0.12, px + size * 0.3, py + size * 0.12), fill=(250, 249, 242, 255)
        )
    fd.ellipse(
        (size - size * 0.3, size - size * 0.2, size + size * 0.3, size + size * 0.2), fill=(232, 176, 36, 255)
    )
    _shadow(
        canvas, (x - size // 2, y + size // 3, x + size // 2 + 20, y + size // 2 + 10), strength=0.25, blur=12
    )
    canvas.paste(flower, (x - size, y - size), flower)


def _dripper(canvas, body, accent, title, detail, rng):
    """A matt white ceramic cone dripper on its round base plate, with a handle and a paper tag."""
    cx, bottom = W // 2 + 40, FLOOR + 40
    top, half_top, half_low = int(H * 0.2), int(W * 0.19), int(W * 0.075)
    plate_half, plate_h = int(half_top * 0.92), 70
    cone_bottom = bottom - plate_h - 20
    depth = int(half_top * 0.24)
    _shadow(canvas, (cx - plate_half - 20, bottom - 50, cx + plate_half + 100, bottom + 60), strength=0.55)
    mask = Image.new("L", (W, H), 0)
    shape = ImageDraw.Draw(mask)
    cone = [
        (cx - half_top, top),
        (cx + half_top, top),
        (cx + half_low, cone_bottom),
        (cx - half_low, cone_bottom),
    ]
    shape.polygon(cone, fill=255)
    shape.ellipse((cx - half_top, top - depth, cx + half_top, top + depth), fill=255)
    shape.rectangle((cx - half_low, cone_bottom - 10, cx + half_low, bottom - plate_h // 2), fill=255)
    shape.ellipse((cx - plate_half, bottom - plate_h, cx + plate_half, bottom), fill=255)
    handle = (cx + half_top - 70, top + 50, cx + half_top + 120, top + 330)
    shape.ellipse(handle, fill=255)
    hole = Image.new("L", (W, H), 0)
    ImageDraw.Draw(hole).ellipse((handle[0] + 60, handle[1] + 60, handle[2] - 50, handle[3] - 60), fill=255)
    cone_mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(cone_mask).polygon(cone, fill=255)
    mask = ImageChops.subtract(mask, ImageChops.subtract(hole, cone_mask))
    layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rectangle((0, 0, W, H), fill=body)
    rim = _mix(body, (0, 0, 0), 0.18)
    plate_top = (cx - plate_half, bottom - plate_h, cx + plate_half, bottom - plate_h // 2 + 4)
    draw.ellipse(plate_top, fill=_mix(body, (255, 255, 255), 0.5))
    draw.arc((cx - plate_half, bottom - plate_h, cx + plate_half, bottom), 0, 180, fill=rim, width=5)
    draw.rectangle((cx - half_low, cone_bottom - 10, cx + half_low, bottom - plate_h // 2), fill=body)
    _paste(canvas, *_round_light(layer, mask, low=0.68, peak=0.32, shine=0.35))
    inside = (cx - half_top + 18, top - depth + 14, cx + half_top - 18, top + depth - 14)
    size = (inside[2] - inside[0], inside[3] - inside[1])
    opening = _vertical(size, _mix(body, (0, 0, 0), 0.4), _mix(body, (0, 0, 0), 0.1))
    ribs = ImageDraw.Draw(opening)
    for k in range(1, 8):  # the spiral ribs inside, seen over the rim
        ribs.arc(
            (size[0] * k / 16, size[1] * 0.2, size[0] * (1 - k / 16), size[1] * 1.6),
            200,
            340,
            fill=_mix(body, (0, 0, 0), 0.3),
            width=4,
        )
    oval = Image.new("L", size, 0)
    ImageDraw.Draw(oval).ellipse((0, 0, *size), fill=255)
    canvas.paste(opening, inside[:2], oval)
    _paper_in(canvas, inside)
    _tag(canvas, (cx - half_top - 300, bottom - 330), title, detail, accent)


def _paper_in(canvas, inside):
    """A paper filter in the dripper, seen from a little above: its crimped edge follows the
    back of the rim and its cone goes down into the dark."""
    x0, y0, x1, y1 = inside
    size = (x1 - x0, y1 - y0)
    paper = (226, 206, 168)
    inner = _vertical(size, _mix(paper, (0, 0, 0), 0.45), _mix(paper, (255, 255, 255), 0.1))
    draw = ImageDraw.Draw(inner)
    for k in range(1, 14):  # the folds of the paper, towards the bottom of the cone
        draw.line(
            (size[0] * k / 14, size[1] * 0.1, size[0] / 2, size[1] * 1.4),
            fill=_mix(paper, (0, 0, 0), 0.3),
            width=3,
        )
    oval = Image.new("L", size, 0)
    ImageDraw.Draw(oval).ellipse((0, 0, *size), fill=255)
    canvas.paste(inner, (x0, y0), oval)
    rim = ImageDraw.Draw(canvas)
    rim.arc((x0 - 6, y0 - 24, x1 + 6, y1 - 10), 180, 360, fill=paper, width=18)
    for k in range(2, 30):
        angle = math.pi + math.pi * k / 31
        px = (x0 + x1) / 2 + math.cos(angle) * (size[0] / 2 + 6)
        py = (y0 + y1 - 34) / 2 + math.sin(angle) * (size[1] / 2 + 7)
        rim.line((px, py - 8, px, py + 8), fill=_mix(paper, (0, 0, 0), 0.18), width=3)


def _tag(canvas, at, title, detail, colour):
    """A kraft paper swing tag leaning on the table, with the product's name."""
    tag_w, tag_h = 420, 260
    tag = Image.new("RGBA", (tag_w + 40, tag_h + 40), (0, 0, 0, 0))
    td = ImageDraw.Draw(tag)
    td.rounded_rectangle((20, 20, 20 + tag_w, 20 + tag_h), radius=18, fill=(214, 186, 140, 255))
    td.ellipse((40, 20 + tag_h // 2 - 12, 64, 20 + tag_h // 2 + 12), fill=(0, 0, 0, 0))
    inner = Image.new("RGBA", tag.size, (0, 0, 0, 0))
    _label_on(inner, (84, 40, 20 + tag_w - 18, tag_h), title, detail, INK)
    tag = Image.alpha_composite(tag, inner).rotate(6, resample=Image.Resampling.BICUBIC, expand=True)
    x, y = at
    _shadow(
        canvas, (x + 10, y + tag.height - 40, x + tag.width + 20, y + tag.height + 10), strength=0.35, blur=20
    )
    canvas.paste(tag, at, tag)


def _label_on(layer, box, title, detail, ink):
    """The name (and detail) written straight on paper, without a label of its own."""
    draw = ImageDraw.Draw(layer)
    x0, y0, x1, y1 = box
    cx = (x0 + x1) / 2
    lines, font = _lines(draw, title, x1 - x0, int((y1 - y0) * 0.26))
    line_height = font.size * 1.15
    start = (y0 + y1) / 2 - line_height * (len(lines) - 1) / 2 - (font.size * 0.4 if detail else 0)
    for i, line in enumerate(lines):
        draw.text(
            (cx, start + i * line_height),
            line,
            font=font,
            fill=ink,
            anchor="mm",
            stroke_width=1,
            stroke_fill=ink,
        )
    if detail:
        draw.text(
            (cx, y1 - (y1 - y0) * 0.12), detail, font=_font(int((y1 - y0) * 0.14)), fill=ink, anchor="mm"
        )


def _filters(canvas, body, accent, title, detail, rng):
    """A stack of cone paper filters, fanned a little, held by a printed paper band."""
    cx, bottom = W // 2, FLOOR + 30
    _shadow(canvas, (cx - 420, bottom - 70, cx + 480, bottom + 70), strength=0.45)
    for i in range(5, -1, -1):
        dx, dy = i * 26 - 60, -i * 12
        shade = _mix(body, (0, 0, 0), 0.04 * i)
        _filter_paper(canvas, cx + dx, bottom + dy, shade)
    band = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    bd = ImageDraw.Draw(band)
    bx0, bx1, by0, by1 = cx - 140, cx + 200, bottom - 520, bottom - 60
    bd.polygon([(bx0, by0), (bx1, by0 - 40), (bx1 + 40, by1 - 30), (bx0 + 30, by1)], fill=(*CREAM, 255))
    _label_on(band, (bx0 + 30, by0 + 20, bx1, by1 - 40), title, detail, accent)
    _paste(canvas, band)


def _filter_paper(canvas, cx, bottom, colour):
    """One flattened cone filter: wide curved top, crimped seam on the right side."""
    layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    top_y, half_top, half_low = bottom - 640, 360, 120
    draw.polygon(
        [(cx - half_top, top_y), (cx + half_top, top_y), (cx + half_low, bottom), (cx - half_low, bottom)],
        fill=(*colour, 255),
    )
    draw.chord((cx - half_top, top_y - 90, cx + half_top, top_y + 90), 180, 360, fill=(*colour, 255))
    edge = _mix(colour, (0, 0, 0), 0.22)
    for k in range(18):  # the crimped seam along the right edge
        t = k / 18
        x = cx + half_top + (half_low - half_top) * t
        y = top_y + (bottom - top_y) * t
        draw.line((x - 34, y, x - 6, y + 10), fill=(*edge, 255), width=4)
    draw.line((cx - half_top, top_y, cx - half_low, bottom), fill=(*edge, 255), width=3)
    draw.arc((cx - half_top, top_y - 90, cx + half_top, top_y + 90), 180, 360, fill=(*edge, 255), width=3)
    draw.line((cx - half_low, bottom, cx + half_low, bottom), fill=(*edge, 255), width=3)
    _paste(canvas, layer)


def _paste(canvas, layer, at=(0, 0)):
    canvas.paste(layer, at, layer)


DRAW = {"bag": _bag, "tin": _tin, "box": _box, "dripper": _dripper, "filters": _filters}
