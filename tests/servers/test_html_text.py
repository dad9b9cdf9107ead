"""HTML to markdown for the fetch server: what a model should read, and nothing else."""

from __future__ import annotations

import pytest

from covey.servers._html_text import html_to_markdown


def test_headings_paragraphs_and_emphasis() -> None:
    html = (
        "<h1>Title</h1><p>One   <b>bold</b>\n and <em>soft</em>.</p><h3>Sub</h3><p>Two<br>lines</p>"
    )
    assert html_to_markdown(html) == "# Title\n\nOne **bold** and *soft*.\n\n### Sub\n\nTwo\nlines"


def test_links_and_images_resolve_against_the_page() -> None:
    html = (
        '<p><a href="../b.html">B</a> <a href="https://x.org/">X</a> '
        '<a href="javascript:alert(1)">Run</a> <a href="#top"></a>'
        '<img src="/i.png" alt="pic"></p>'
    )
    assert html_to_markdown(html, base_url="https://ex.com/docs/a.html") == (
        "[B](https://ex.com/b.html) [X](https://x.org/) Run ![pic](https://ex.com/i.png)"
    )


def test_nested_lists() -> None:
    html = (
        "<ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li><li>three</li></ul><p>after</p>"
    )
    assert html_to_markdown(html) == "- one\n- two\n  1. a\n  2. b\n- three\n\nafter"


def test_paragraphs_inside_list_items_stay_in_the_item() -> None:
    html = "<ol><li><p>First</p><p>more</p></li><li><p>Second</p></li></ol><p>after</p>"
    assert html_to_markdown(html) == "1. First\nmore\n2. Second\n\nafter"


def test_code_blocks_keep_their_whitespace() -> None:
    html = "<p>Call <code>f(x)</code>:</p><pre><code>def f(x):\n    return  x &lt; 1\n</code></pre>"
    assert html_to_markdown(html) == "Call `f(x)`:\n\n```\ndef f(x):\n    return  x < 1\n```"


def test_noise_is_dropped() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style><script>var a = '<p>x</p>';</script>"
        "</head><body><nav><ul><li>Menu</li></ul></nav><noscript>Enable JS</noscript>"
        "<form><button>Go</button></form><p>Body text</p><svg><text>icon</text></svg></body></html>"
    )
    assert html_to_markdown(html) == "Body text"


def test_forms_keep_their_text() -> None:
    # Some sites wrap the whole page in one <form>; only its controls are dropped.
    html = "<form><p>Inside a form</p><button>Go</button><select><option>A</option></select></form>"
    assert html_to_markdown(html) == "Inside a form"


def test_head_without_end_tag_does_not_swallow_the_body() -> None:
    assert html_to_markdown("<html><head><title>T<body><h2>Kept</h2>") == "## Kept"


def test_tables_and_quotes() -> None:
    html = (
        "<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td>3</td></tr></table>"
        "<blockquote><p>Said</p><p>twice</p></blockquote><hr><p>end &amp; more</p>"
    )
    assert html_to_markdown(html) == (
        "| Name | Age |\n| --- | --- |\n| Ann | 3 |\n\n> Said\n>\n> twice\n\n---\n\nend & more"
    )


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<",
        "</p></a></ul></li></pre></blockquote>",
        "<a href='x'><a href='y'>nested</a>",
        "<pre>unclosed <b>",
        "<script>never closed",
        "<li>orphan item",
        "<td>cell</td>",
        "<![CDATA[x]]><!-- comment --><?pi?>&bogus; &#xffffff;",
        "<div>" * 2000 + "deep" + "</div>" * 2000,
    ],
)
def test_malformed_html_never_raises(html: str) -> None:
    assert isinstance(html_to_markdown(html), str)
