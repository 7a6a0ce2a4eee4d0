"""Hostile names, ids and file names for the browser tests: markup Streamlit would interpret.

Each string carries a different attack (remote image, link, autolink, shortcode, LaTeX, code span,
HTML, typographic arrow); remote addresses are in TEST-NET-3, so a request reveals a leak.
"""

from __future__ import annotations

LEAK_HOST = "203.0.113.7"

# One string per markdown feature Streamlit renders, for the escaping probe.
MARKUP_CASES: list[str] = [
    f"![img](http://{LEAK_HOST}/img.png)",
    f"[link](http://{LEAK_HOST}/) <http://{LEAK_HOST}/angle> https://{LEAK_HOST}/bare",
    "www.evil.example WWW.EVIL.EXAMPLE name@evil.example",
    f"<img src=http://{LEAK_HOST}/html.png> <b>bold</b> <!-- c --> &amp; &#33; &lt;",
    ":material/warning: :smile: :streamlit: :material_home: :+1:",
    ":red[red] :blue-background[bg] :small[small] :help[tip] :color[c]{foreground=red}",
    "$x^2$ and $$y$$ and \\(z\\) and \\[w\\]",
    "a `b` ``c`` ` d \\` e",
    "*a* _b_ **c** __d__ ~~e~~ ~f~",
    "# heading",
    "1. one",
    "- item",
    "> quote",
    "| a | b |",
    "---",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    "->",
    f"line1\n# line2\n![n](http://{LEAK_HOST}/newline.png)",
    "C:\\path\\to \\* ns:id 12:30:00 x:y:z",
    "[x]: http://203.0.113.7/ref",
    "[ref][x] ![ref-img][x]",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "    indented \\* like code",
]


def hostile(tag: str) -> str:
    """A compact hostile string whose remote image names `tag`, so a leak shows where it came from."""
    return (
        f"![{tag}](http://{LEAK_HOST}/{tag}.png) `tick` :smile: :material/bolt: $x^2$ "
        f"**{tag}** www.evil.example <b>b</b> ->"
    )


def without_slashes(tag: str) -> str:
    """Hostile text without `/` or `\\`, for names that become file or project names."""
    return f"{tag} ![i]({tag}.png) www.evil.example :smile: $x$ *e* `c` <b>b</b> ->"
