"""Emoji drawn as Slack draws them: small images, not characters. A page on a machine without
an emoji font (headless Chromium on a bare Debian) would show a character as an empty box; each
image here is a few hand-drawn SVG shapes, so it needs no font at all.

The markup is built only from this fixed table, never from message text: a code nobody drew
here has no image, and its caller shows it as typed.
"""

from __future__ import annotations

import base64

from markupsafe import Markup

# Colours shared by several drawings, so the same state always looks the same.
_RED, _ORANGE, _YELLOW, _GREEN, _BLUE = "#dd2e44", "#f4900c", "#fdcb58", "#2e9e5b", "#3b88c3"
_GREY, _DARK, _SKIN, _PAPER = "#99aab5", "#31373d", "#ffdc5d", "#f5f8fa"


def _circle(fill: str, stroke: str = "none") -> str:
    return f"<circle cx='10' cy='10' r='8' fill='{fill}' stroke='{stroke}' stroke-width='1.5'/>"


def _tile(inner: str) -> str:
    """A blue key, as Slack's arrows and media buttons are drawn."""
    return f"<rect x='1' y='1' width='18' height='18' rx='3' fill='{_BLUE}'/>{inner}"


_CHECK = "M5 10.5 8.5 14 15 6.5"
_PAGE = (
    f"<path d='M4 1h9l4 4v14H4z' fill='{_PAPER}' stroke='{_GREY}'/>"
    f"<path d='M13 1v4h4' fill='none' stroke='{_GREY}'/>"
    f"<path d='M6.5 8h8M6.5 11h8M6.5 14h6' stroke='{_GREY}' stroke-width='1.2'/>"
)
_PENCIL = (
    "<g transform='rotate(45 10 10)'>"
    f"<rect x='7.5' y='1' width='5' height='13' fill='{_ORANGE}'/>"
    "<rect x='7.5' y='1' width='5' height='3' fill='#ea596e'/>"
    "<path d='M7.5 14h5L10 19z' fill='#ffd9a8'/><path d='M9.2 17.4h1.6L10 19z' fill='#31373d'/>"
    "</g>"
)
_THUMB = (
    f"<rect x='2' y='9' width='4' height='9' rx='1' fill='{_BLUE}'/>"
    f"<path d='M7 9l3.5-6c1.5-.8 2.6.3 2.2 1.8L12 8h4.2c1.3 0 2 1 1.8 2.2l-1.2 6.3"
    f"c-.2 1-1 1.5-2 1.5H7z' fill='{_SKIN}'/>"
)

# Each code's drawing, on a 20 by 20 grid: plain shapes (no text, which would need a font).
_DRAWINGS: dict[str, str] = {
    "red_circle": _circle(_RED),
    "large_orange_circle": _circle(_ORANGE),
    "large_yellow_circle": _circle(_YELLOW),
    "large_green_circle": _circle(_GREEN),
    "large_blue_circle": _circle(_BLUE),
    "white_circle": _circle("#ffffff", _GREY),
    "black_circle": _circle(_DARK),
    "white_check_mark": (
        f"<rect x='1' y='1' width='18' height='18' rx='4' fill='{_GREEN}'/>"
        f"<path d='{_CHECK}' fill='none' stroke='#fff' stroke-width='2.6' "
        "stroke-linecap='round' stroke-linejoin='round'/>"
    ),
    "heavy_check_mark": (
        f"<path d='{_CHECK}' fill='none' stroke='{_DARK}' stroke-width='3' "
        "stroke-linecap='round' stroke-linejoin='round'/>"
    ),
    "ballot_box_with_check": (
        f"<rect x='2' y='2' width='16' height='16' rx='2' fill='#fff' stroke='{_DARK}' "
        "stroke-width='1.5'/>"
        f"<path d='{_CHECK}' fill='none' stroke='{_DARK}' stroke-width='2.4' "
        "stroke-linecap='round' stroke-linejoin='round'/>"
    ),
    "x": (
        f"<path d='M4 4l12 12M16 4 4 16' stroke='{_RED}' stroke-width='3.4' "
        "stroke-linecap='round'/>"
    ),
    "no_entry": _circle(_RED) + "<rect x='4.5' y='8.5' width='11' height='3' fill='#fff'/>",
    "octagonal_sign": (
        f"<path d='M6.5 1.5h7l5 5v7l-5 5h-7l-5-5v-7z' fill='{_RED}'/>"
        "<rect x='4.5' y='8.5' width='11' height='3' fill='#fff'/>"
    ),
    "warning": (
        f"<path d='M10 1.5 19 18H1z' fill='{_YELLOW}' stroke='{_DARK}' stroke-width='1' "
        "stroke-linejoin='round'/>"
        f"<rect x='9' y='6.5' width='2' height='6' rx='1' fill='{_DARK}'/>"
        f"<circle cx='10' cy='15' r='1.2' fill='{_DARK}'/>"
    ),
    "grey_question": (
        f"<path d='M6.5 7a3.5 3.5 0 1 1 5 3.2c-1 .5-1.5 1.2-1.5 2.3v.5' fill='none' "
        f"stroke='{_GREY}' stroke-width='2.4' stroke-linecap='round'/>"
        f"<circle cx='10' cy='16.5' r='1.5' fill='{_GREY}'/>"
    ),
    "fire": (
        f"<path d='M10 1c1 4 6 6 6 11a6 6 0 0 1-12 0c0-3 2-4.5 2.5-7 1.5 1.5 1.8 3 1.8 4 "
        f"1-2 1.7-4.5 1.7-8z' fill='{_ORANGE}'/>"
        f"<path d='M10 10c.5 2 3 3 3 5a3 3 0 0 1-6 0c0-1.5 1-2.2 1.4-3.4.8.6 1 1.3 1 2 "
        f".4-1 .6-2.2.6-3.6z' fill='{_YELLOW}'/>"
    ),
    "rotating_light": (
        f"<path d='M10 2v2M3 5l1.5 1.5M17 5l-1.5 1.5' stroke='{_ORANGE}' stroke-width='1.8' "
        "stroke-linecap='round'/>"
        f"<path d='M5 15v-4a5 5 0 0 1 10 0v4z' fill='{_RED}'/>"
        "<path d='M8 11a2 2 0 0 1 2-2' fill='none' stroke='#fff' stroke-width='1.2'/>"
        f"<rect x='3' y='15' width='14' height='3.5' rx='1' fill='{_DARK}'/>"
    ),
    "pushpin": (
        f"<path d='M8.5 11.5 3 17' stroke='{_GREY}' stroke-width='2' stroke-linecap='round'/>"
        f"<path d='M11 2l7 7-2 1-2.5-.5-3.5 3.5.5 2.5-1.5 1.5-7-7L3.5 8.5 6 9l3.5-3.5L9 3z' "
        f"fill='{_RED}'/>"
    ),
    "page_facing_up": _PAGE,
    "memo": _PAGE
    + _PENCIL.replace("rotate(45 10 10)", "translate(5 3) scale(.7) rotate(45 10 10)"),
    "pencil": _PENCIL,
    "writing_hand": _PENCIL + f"<ellipse cx='13.5' cy='14' rx='5' ry='4' fill='{_SKIN}'/>",
    "hourglass_flowing_sand": (
        f"<rect x='3' y='1' width='14' height='2.5' rx='1' fill='#a0522d'/>"
        f"<rect x='3' y='16.5' width='14' height='2.5' rx='1' fill='#a0522d'/>"
        f"<path d='M5 3.5h10L10.8 10 15 16.5H5L9.2 10z' fill='{_PAPER}' stroke='{_GREY}'/>"
        f"<path d='M7.5 6h5L10 9.5zM10 12 13.5 16H6.5z' fill='{_YELLOW}'/>"
    ),
    "stopwatch": (
        f"<rect x='8' y='0.5' width='4' height='2.5' rx='1' fill='{_DARK}'/>"
        f"<circle cx='10' cy='11' r='7.5' fill='#fff' stroke='{_DARK}' stroke-width='1.8'/>"
        f"<path d='M10 11V6.5M10 11l3 2' stroke='{_RED}' stroke-width='1.6' "
        "stroke-linecap='round'/>"
    ),
    "bell": (
        f"<path d='M10 2.5a5 5 0 0 1 5 5v4.5l2 3H3l2-3V7.5a5 5 0 0 1 5-5z' fill='{_YELLOW}' "
        f"stroke='{_ORANGE}'/>"
        f"<circle cx='10' cy='17' r='2' fill='{_ORANGE}'/>"
    ),
    "rocket": (
        "<g transform='rotate(45 10 10)'>"
        f"<path d='M10 .5c3 2.5 4 6 4 11.5H6C6 6.5 7 3 10 .5z' fill='{_PAPER}' stroke='{_GREY}'/>"
        f"<circle cx='10' cy='7' r='1.8' fill='{_BLUE}'/>"
        f"<path d='M6 9 3 14h3zM14 9l3 5h-3z' fill='{_RED}'/>"
        f"<path d='M8 12.5h4L10 18.5z' fill='{_ORANGE}'/>"
        "</g>"
    ),
    "tada": (
        f"<path d='M2 18 6 6l8 8z' fill='{_YELLOW}' stroke='{_ORANGE}' stroke-linejoin='round'/>"
        f"<circle cx='14' cy='4' r='1.5' fill='{_RED}'/><circle cx='17' cy='9' r='1.3' "
        f"fill='{_BLUE}'/><circle cx='10' cy='2.5' r='1.2' fill='{_GREEN}'/>"
        f"<path d='M11 8l4-4M12.5 10.5l5-1' stroke='#aa8dd8' stroke-width='1.4' "
        "stroke-linecap='round'/>"
    ),
    "ice_cube": (
        "<rect x='2.5' y='2.5' width='15' height='15' rx='3' fill='#bde0f6' stroke='#88c9f9'/>"
        "<path d='M5.5 6.5l3-2M5.5 9.5l5-4' stroke='#fff' stroke-width='1.5' "
        "stroke-linecap='round'/>"
    ),
    "star": (
        f"<path d='M10 1.5l2.6 5.4 5.9.8-4.3 4.1 1 5.8L10 14.8l-5.2 2.8 1-5.8L1.5 7.7l5.9-.8z' "
        f"fill='{_YELLOW}' stroke='{_ORANGE}' stroke-linejoin='round'/>"
    ),
    "eyes": (
        "<ellipse cx='6' cy='10' rx='4' ry='6.5' fill='#fff' stroke='#66757f'/>"
        "<ellipse cx='14' cy='10' rx='4' ry='6.5' fill='#fff' stroke='#66757f'/>"
        f"<circle cx='7.5' cy='10.5' r='2' fill='{_DARK}'/>"
        f"<circle cx='15.5' cy='10.5' r='2' fill='{_DARK}'/>"
    ),
    "+1": _THUMB,
    "handshake": (
        f"<path d='M1 7l5-2 4 3 4-3 5 2v6l-5 4-4-3-4 3-5-4z' fill='{_SKIN}' "
        f"stroke='{_ORANGE}' stroke-linejoin='round'/>"
        f"<path d='M6 10.5l2.5 2.5M8.5 9l3 3M11 8l3 3' stroke='{_ORANGE}' stroke-width='1.1' "
        "stroke-linecap='round'/>"
    ),
    "saluting_face": (
        f"<circle cx='10' cy='11' r='8' fill='{_SKIN}'/>"
        f"<circle cx='7' cy='10' r='1.2' fill='{_DARK}'/>"
        f"<circle cx='13' cy='10' r='1.2' fill='{_DARK}'/>"
        f"<path d='M7 14.5h6' stroke='{_DARK}' stroke-width='1.4' stroke-linecap='round'/>"
        f"<path d='M3 6.5l6-5' stroke='{_ORANGE}' stroke-width='3' stroke-linecap='round'/>"
    ),
    "performing_arts": (
        f"<path d='M1.5 3h10v5a5 5 0 0 1-10 0z' fill='{_YELLOW}' stroke='{_ORANGE}'/>"
        f"<path d='M8.5 8h10v5a5 5 0 0 1-10 0z' fill='#aa8dd8' stroke='#744eaa'/>"
        f"<path d='M4 6h2M7.5 6h2M11 11h2M15 11h2' stroke='{_DARK}' stroke-width='1.3' "
        "stroke-linecap='round'/>"
        f"<path d='M11.5 15.5a2.5 2 0 0 1 4.5 0' fill='none' stroke='{_DARK}'/>"
    ),
    "lock": (
        "<path d='M6 9V6.5a4 4 0 0 1 8 0V9' fill='none' stroke='#aab8c2' stroke-width='2.2'/>"
        f"<rect x='3.5' y='9' width='13' height='9.5' rx='1.5' fill='{_YELLOW}' "
        f"stroke='{_ORANGE}'/>"
        f"<circle cx='10' cy='13.5' r='1.5' fill='{_DARK}'/>"
    ),
    "rewind": _tile("<path d='M10 5.5 4 10l6 4.5zM16 5.5 10 10l6 4.5z' fill='#fff'/>"),
    "fast_forward": _tile("<path d='M4 5.5l6 4.5-6 4.5zM10 5.5l6 4.5-6 4.5z' fill='#fff'/>"),
    "arrows_counterclockwise": _tile(
        "<path d='M14.5 7.5A5 5 0 0 0 5.5 8M5.5 12.5a5 5 0 0 0 9 .5' fill='none' "
        "stroke='#fff' stroke-width='1.8'/>"
        "<path d='M3.5 5.5 5.5 9.5 8.5 6.5zM16.5 14.5l-2-4-3 3z' fill='#fff'/>"
    ),
    "leftwards_arrow_with_hook": _tile(
        "<path d='M8 7.5h4.5a3 3 0 0 1 0 6H8' fill='none' stroke='#fff' stroke-width='2'/>"
        "<path d='M8.5 4 4 7.5 8.5 11z' fill='#fff'/>"
    ),
}
# Other names Slack knows the same emoji by.
_ALIASES = {"thumbsup": "+1"}


def _svg(drawing: str) -> str:
    return (
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 20 20' width='20' height='20'>"
        f"{drawing}</svg>"
    )


def _img(code: str, drawing: str) -> Markup:
    # base64: the data URL then holds no quote, '#' or '%' for a browser to misread.
    data = base64.b64encode(_svg(drawing).encode()).decode()
    return Markup(
        '<img class="emoji" alt=":{code}:" title=":{code}:" src="data:image/svg+xml;base64,{data}">'
    ).format(code=code, data=data)


_IMAGES: dict[str, Markup] = {code: _img(code, drawing) for code, drawing in _DRAWINGS.items()}
_IMAGES.update({alias: _img(alias, _DRAWINGS[code]) for alias, code in _ALIASES.items()})

KNOWN: frozenset[str] = frozenset(_IMAGES)


def image(code: str) -> Markup | None:
    """The `<img>` for an emoji's code name (`fire`, no colons), or None if none is drawn."""
    return _IMAGES.get(code)
