"""Pythonic tool calls with namespaced names, without brackets, or naming no offered tool."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from covey import UsageError
from covey.models import MalformedToolCall, ReasoningDelta, TextDelta, ToolCall, ToolCallDelta
from covey.models._dialects import ParsedText, StreamingTextParser, parse_text, render_tool_calls

TOOLS = frozenset({"get_weather", "get_time", "math.factorial", "spotify.play", "files-read"})


def both(text: str, tool_names: frozenset[str] | None = TOOLS) -> ParsedText:
    """The full parse, after checking that a stream cut into single characters agrees."""
    parser = StreamingTextParser(tool_names=tool_names, id_prefix="call")
    events = [e for ch in text for e in parser.feed(ch)] + parser.finish()
    streamed = ParsedText(
        text="".join(e.text for e in events if isinstance(e, TextDelta)),
        reasoning="".join(e.text for e in events if isinstance(e, ReasoningDelta)),
        tool_calls=[e.call for e in events if isinstance(e, ToolCallDelta)],
        malformed=[e for e in events if isinstance(e, MalformedToolCall)],
    )
    full = parse_text(text, tool_names=tool_names, starts_in_reasoning=False)
    assert streamed == full
    return full


def calls(parsed: ParsedText) -> list[tuple[str, str, dict[str, Any]]]:
    return [(c.id, c.name, c.arguments) for c in parsed.tool_calls]


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("[math.factorial(number=5)]", [("call_0", "math.factorial", {"number": 5})]),
        (
            "[spotify.play(artist='X'), spotify.play(artist='Y')]",
            [
                ("call_0", "spotify.play", {"artist": "X"}),
                ("call_1", "spotify.play", {"artist": "Y"}),
            ],
        ),
        ("[files-read(path='notes.txt')]", [("call_0", "files-read", {"path": "notes.txt"})]),
    ],
)
def test_namespaced_names_are_read_as_dotted_names(
    sample: str, expected: list[tuple[str, str, dict[str, Any]]]
) -> None:
    parsed = both(sample)
    assert calls(parsed) == expected
    assert (parsed.text, parsed.malformed) == ("", [])


@pytest.mark.parametrize(
    ("sample", "names"),
    [
        ("[unknown_tool(a=1)]", ["unknown_tool"]),
        ("[math.sqrt(x=4)]", ["math.sqrt"]),
        ("[spotify.play(artist='X'), spotify.pause()]", ["spotify.pause"]),
    ],
)
def test_a_call_of_a_tool_not_offered_is_malformed_and_names_the_tools(
    sample: str, names: list[str]
) -> None:
    parsed = both(sample)
    assert [m.name for m in parsed.malformed] == names
    for bad in parsed.malformed:
        assert bad.dialect == "pythonic"
        assert f"You called {bad.name!r}, which is not one of your tools." in bad.error
        assert "files-read, get_time, get_weather, math.factorial, spotify.play" in bad.error
    assert parsed.text == ""


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ('get_weather(city="Paris")', [("call_0", "get_weather", {"city": "Paris"})]),
        ("math.factorial(number=5)", [("call_0", "math.factorial", {"number": 5})]),
        (
            'get_weather(city="Paris")\nget_time(timezone="Europe/Paris")',
            [
                ("call_0", "get_weather", {"city": "Paris"}),
                ("call_1", "get_time", {"timezone": "Europe/Paris"}),
            ],
        ),
        (
            'get_weather(city="Paris"); get_time(timezone="Europe/Paris")',
            [
                ("call_0", "get_weather", {"city": "Paris"}),
                ("call_1", "get_time", {"timezone": "Europe/Paris"}),
            ],
        ),
        (
            "  get_weather(city='Oslo'), spotify.play(artist='a-ha')\n",
            [
                ("call_0", "get_weather", {"city": "Oslo"}),
                ("call_1", "spotify.play", {"artist": "a-ha"}),
            ],
        ),
    ],
)
def test_bare_calls_without_brackets_are_calls(
    sample: str, expected: list[tuple[str, str, dict[str, Any]]]
) -> None:
    parsed = both(sample)
    assert calls(parsed) == expected
    assert [c.dialect for c in parsed.tool_calls] == ["pythonic"] * len(expected)
    assert (parsed.text, parsed.malformed) == ("", [])


@pytest.mark.parametrize(
    ("sample", "fragment"),
    [
        ('get_weather("Paris")', "by position"),
        ("get_weather(city=x.upper())", "not a literal"),
        ('get_weather(city="Paris", days=)', "not valid Python"),
    ],
)
def test_bare_call_of_an_offered_tool_that_cannot_be_read_is_malformed(
    sample: str, fragment: str
) -> None:
    parsed = both(sample)
    assert parsed.tool_calls == []
    [bad] = parsed.malformed
    assert bad.name == "get_weather"
    assert fragment in bad.error
    assert parsed.text == ""


@pytest.mark.parametrize(
    "sample",
    [
        "Use print(x) to see it.",
        "print(x)",
        "unknown_tool(a=1)",
        "get_weatherman(city='Paris')",
        "get_weather(city) returns the weather for a city.",
        "get_weather(city='Paris') is how you would call it",
        "The call get_weather(city='Paris') returns JSON.",
        "[len(items)]",
        "[sorted(xs), max(xs)]",
        "```python\nget_weather(city='Paris')\n```",
        "math.factorial is not offered; factorial(5) = 120.",
        "result = get_weather(city='Paris')",
    ],
)
def test_text_that_only_mentions_a_function_stays_the_answer(sample: str) -> None:
    assert both(sample) == ParsedText(
        text=sample.strip(), reasoning="", tool_calls=[], malformed=[]
    )


def test_bare_calls_count_only_when_tools_are_offered() -> None:
    sample = 'get_weather(city="Paris")'
    assert both(sample, tool_names=None).text == sample


def test_python_tag_after_answer_text_is_still_a_call() -> None:
    parsed = both(
        'Let me look that up.<|python_tag|>{"name": "get_weather", "parameters": {"city": "Oslo"}}'
    )
    assert parsed.text == "Let me look that up."
    assert [(c.name, c.arguments, c.dialect) for c in parsed.tool_calls] == [
        ("get_weather", {"city": "Oslo"}, "python_tag")
    ]


PIECES = [
    *("get_weather(", "math.factorial(", "files-read(", "spotify.play", "unknown(", "[", "]"),
    *("city='Paris'", "number=5", "x", ")", ", ", "; ", "\n", " ", "(", "<think>", "</think>"),
    *("<|python_tag|>", '{"name": "get_time", "parameters": {}}', "Use ", "get_weath", "."),
    *("<|python_start|>", "<|python_end|>", "<|python_"),
]


@given(
    pieces=st.lists(st.sampled_from(PIECES), max_size=14),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_any_text_with_tools_streams_like_its_full_parse(
    pieces: list[str], cuts: list[int]
) -> None:
    text = "".join(pieces)
    points = [0, *sorted(c for c in cuts if c <= len(text)), len(text)]
    parser = StreamingTextParser(tool_names=TOOLS, id_prefix="call")
    events = [e for a, b in itertools.pairwise(points) for e in parser.feed(text[a:b])]
    events += parser.finish()
    full = parse_text(text, tool_names=TOOLS, starts_in_reasoning=False)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == full.text
    assert [e.call for e in events if isinstance(e, ToolCallDelta)] == full.tool_calls
    assert [e for e in events if isinstance(e, MalformedToolCall)] == full.malformed


@pytest.mark.parametrize(
    "sample",
    [
        '<|python_start|>[get_weather(city="Paris"), get_time(timezone="Europe/Paris")]'
        "<|python_end|>",
        'Checking.<|python_start|>[get_weather(city="Paris"), get_time(timezone="Europe/Paris")]',
    ],
)
def test_llama4_python_start_tokens_wrap_pythonic_calls(sample: str) -> None:
    parsed = both(sample)
    assert calls(parsed) == [
        ("call_0", "get_weather", {"city": "Paris"}),
        ("call_1", "get_time", {"timezone": "Europe/Paris"}),
    ]
    assert parsed.text == ("Checking." if sample.startswith("Checking") else "")


def test_render_writes_dotted_and_hyphenated_names() -> None:
    written = [
        ToolCall(id="a", name="math.factorial", arguments={"number": 5}),
        ToolCall(id="b", name="files-read", arguments={"path": "a.txt"}),
    ]
    rendered = render_tool_calls(written, "pythonic")
    assert rendered == "[math.factorial(number=5), files-read(path='a.txt')]"
    assert calls(both(rendered)) == [
        ("call_0", "math.factorial", {"number": 5}),
        ("call_1", "files-read", {"path": "a.txt"}),
    ]
    for name in ("ns.class", "a..b", "files-"):
        with pytest.raises(UsageError, match="not a Python identifier"):
            render_tool_calls([ToolCall(id="c", name=name, arguments={})], "pythonic")


def test_python_tag_before_a_python_call_of_an_offered_tool_is_a_call() -> None:
    parsed = both('<|python_tag|>get_weather(city="Paris")')
    assert [(c.name, c.arguments, c.dialect) for c in parsed.tool_calls] == [
        ("get_weather", {"city": "Paris"}, "python_tag")
    ]


def test_python_tag_before_a_builtin_tool_not_offered_names_the_offered_tools() -> None:
    parsed = both("<|python_tag|>brave_search.call(query='weather in Paris')")
    [bad] = parsed.malformed
    assert (bad.dialect, bad.raw) == ("python_tag", "brave_search.call(query='weather in Paris')")
    assert "of one of your tools (files-read, get_time, get_weather" in bad.error
    assert (parsed.text, parsed.tool_calls) == ("", [])
