"""Text-dialect tool calls and `<think>` reasoning, read whole and streamed, and written."""

from __future__ import annotations

import itertools
import keyword
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from covey import UsageError
from covey.models import MalformedToolCall, ReasoningDelta, TextDelta, ToolCall, ToolCallDelta
from covey.models._dialects import (
    DIALECTS,
    Dialect,
    ParsedText,
    StreamingTextParser,
    parse_text,
    render_tool_calls,
)

# Samples as each family's docs and chat templates show them.
HERMES_2_PRO = (
    '<tool_call>\n{"arguments": {"symbol": "TSLA"}, "name": "get_stock_fundamentals"}\n</tool_call>'
)
QWEN25_TWO_CALLS = (
    "<tool_call>\n"
    '{"name": "get_current_temperature", "arguments": {"location": "San Francisco, CA, USA"}}\n'
    "</tool_call>\n"
    "<tool_call>\n"
    '{"name": "get_temperature_date", "arguments": '
    '{"location": "San Francisco, CA, USA", "date": "2024-10-01"}}\n'
    "</tool_call>"
)
QWEN3_THINK_THEN_CALL = (
    "<think>\nThe user wants the weather in Paris, so I call get_weather.\n</think>\n\n"
    "Let me look that up.\n"
    "<tool_call>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n'
    "</tool_call>"
)
LLAMA31_JSON = (
    '{"name": "get_current_conditions", '
    '"parameters": {"location": "San Francisco, CA", "unit": "Fahrenheit"}}'
)
LLAMA32_SEMICOLONS = (
    '{"name": "get_weather", "parameters": {"city": "Paris"}}; '
    '{"type": "function", "name": "get_time", "arguments": {"timezone": "Europe/Paris"}}'
)
PYTHON_TAG_JSON = (
    '<|python_tag|>{"name": "get_current_conditions", "parameters": {"location": "Menlo Park"}}'
)
PYTHON_TAG_LIST = (
    '<|python_tag|>[{"name": "get_weather", "parameters": {"city": "Paris"}}, '
    '{"name": "get_time", "parameters": {"timezone": "Europe/Paris"}}]'
)
MISTRAL_V3 = (
    "[TOOL_CALLS] ["
    '{"name": "get_current_weather", "arguments": {"location": "Paris, France", '
    '"format": "celsius"}}, '
    '{"name": "get_time", "arguments": {"timezone": "Europe/Paris"}}]'
)
MISTRAL_V11 = (
    '[TOOL_CALLS]get_current_weather[ARGS]{"location": "Paris, France", "format": "celsius"}'
    '[TOOL_CALLS]get_time[ARGS]{"timezone": "Europe/Paris"}'
)
LLAMA32_PYTHONIC = "[get_user_info(user_id=7890, special='black')]"
LLAMA4_PYTHONIC = (
    '[get_weather(location="Menlo Park, CA"), get_time(timezone="America/Los_Angeles")]'
)
EXPLICIT_THINK = "<think>\nTwo plus two is four.\n</think>\n\n2 + 2 = 4."
IMPLICIT_THINK = "The user asks for 2 + 2. That is 4.\n</think>\n\n2 + 2 = 4."
FENCED_LLAMA = '```json\n{"name": "get_weather", "parameters": {"city": "Paris",},}\n```'
BROKEN_HERMES = '<tool_call>\n{"name": "add", "arguments": {"a": 1 "b": 2}}\n</tool_call>'
PLAIN = "The capital of France is Paris. It has about 2.1 million inhabitants."
JSON_ANSWER = '{"city": "Paris", "population": 2102650}'
LIST_ANSWER = '["Paris", "Lyon", "Marseille"]'

SAMPLES = [
    HERMES_2_PRO,
    QWEN25_TWO_CALLS,
    QWEN3_THINK_THEN_CALL,
    LLAMA31_JSON,
    LLAMA32_SEMICOLONS,
    PYTHON_TAG_JSON,
    PYTHON_TAG_LIST,
    MISTRAL_V3,
    "Sure, checking. " + MISTRAL_V3,
    MISTRAL_V11,
    LLAMA32_PYTHONIC,
    LLAMA4_PYTHONIC,
    EXPLICIT_THINK,
    FENCED_LLAMA,
    BROKEN_HERMES,
    PLAIN,
    JSON_ANSWER,
    LIST_ANSWER,
    "<think>\nI need the weather.\n</think>\n\n" + LLAMA4_PYTHONIC,
    '<tool_call>\n{"name": "add", "arguments": {"a": 1}}',
]


def stream(
    chunks: list[str], *, tool_names: set[str] | None = None, starts_in_reasoning: bool = False
) -> ParsedText:
    parser = StreamingTextParser(
        tool_names=tool_names, id_prefix="call", starts_in_reasoning=starts_in_reasoning
    )
    events = [event for chunk in chunks for event in parser.feed(chunk)] + parser.finish()
    return ParsedText(
        text="".join(e.text for e in events if isinstance(e, TextDelta)),
        reasoning="".join(e.text for e in events if isinstance(e, ReasoningDelta)),
        tool_calls=[e.call for e in events if isinstance(e, ToolCallDelta)],
        malformed=[e for e in events if isinstance(e, MalformedToolCall)],
    )


def split(text: str, cuts: list[int]) -> list[str]:
    points = [0, *sorted(cuts), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(points)]


def calls(parsed: ParsedText) -> list[tuple[str, dict[str, Any], str]]:
    return [(c.name, c.arguments, c.dialect) for c in parsed.tool_calls]


def test_dialect_names() -> None:
    assert DIALECTS == ("hermes", "llama3", "python_tag", "mistral", "pythonic")


def test_hermes_2_pro_block_with_arguments_first() -> None:
    parsed = parse_text(HERMES_2_PRO)
    assert parsed.tool_calls == [
        ToolCall(
            id="call_0",
            name="get_stock_fundamentals",
            arguments={"symbol": "TSLA"},
            dialect="hermes",
        )
    ]
    assert parsed.text == ""
    assert parsed.malformed == []


def test_qwen25_two_calls_get_ids_in_order() -> None:
    parsed = parse_text(QWEN25_TWO_CALLS, id_prefix="resp7")
    assert [c.id for c in parsed.tool_calls] == ["resp7_0", "resp7_1"]
    assert calls(parsed) == [
        ("get_current_temperature", {"location": "San Francisco, CA, USA"}, "hermes"),
        (
            "get_temperature_date",
            {"location": "San Francisco, CA, USA", "date": "2024-10-01"},
            "hermes",
        ),
    ]
    assert parsed.text == ""


def test_hermes_with_text_around_and_reasoning() -> None:
    parsed = parse_text(QWEN3_THINK_THEN_CALL + "\nI will tell you once I know.")
    assert parsed.reasoning == "The user wants the weather in Paris, so I call get_weather."
    assert parsed.text == "Let me look that up.\n\nI will tell you once I know."
    assert calls(parsed) == [("get_weather", {"city": "Paris", "unit": "celsius"}, "hermes")]


def test_llama31_json_message_is_a_call() -> None:
    parsed = parse_text(LLAMA31_JSON, tool_names={"get_current_conditions"})
    assert calls(parsed) == [
        (
            "get_current_conditions",
            {"location": "San Francisco, CA", "unit": "Fahrenheit"},
            "llama3",
        )
    ]
    assert parsed.text == ""


def test_llama32_calls_separated_by_semicolons() -> None:
    parsed = parse_text(LLAMA32_SEMICOLONS)
    assert calls(parsed) == [
        ("get_weather", {"city": "Paris"}, "llama3"),
        ("get_time", {"timezone": "Europe/Paris"}, "llama3"),
    ]


# Qwen2.5-Coder-0.5B-Instruct (its own chat template, served by covey's embedded server)
# wrote these after a tool result, without the <tool_call> tags its template asks for.
QWEN_BARE_LINES = (
    '{"name": "calculate", "arguments": {"expression": "645498", "exact": false}}\n'
    '{"name": "calculate", "arguments": {"expression": "645498", "exact": false}}\n'
    '{"name": "calculate", "arguments": {"expression": "645498", "exact": false}}'
)
QWEN_FENCED = (
    '```json\n{\n  "name": "calculate",\n  "arguments": {\n    "expression": "(987 * 654)",\n'
    '    "exact": false\n  }\n}\n```'
)


def test_qwen_bare_calls_one_per_line_are_calls() -> None:
    parsed = parse_text(QWEN_BARE_LINES, tool_names={"calculate"})
    assert parsed.malformed == []
    assert (
        calls(parsed)
        == [
            ("calculate", {"expression": "645498", "exact": False}, "llama3"),
        ]
        * 3
    )
    assert stream(list(QWEN_BARE_LINES), tool_names={"calculate"}) == parsed


def test_qwen_fenced_bare_call_is_a_call() -> None:
    parsed = parse_text(QWEN_FENCED, tool_names={"calculate"})
    assert calls(parsed) == [("calculate", {"expression": "(987 * 654)", "exact": False}, "llama3")]


def test_two_json_answers_on_one_line_are_still_malformed() -> None:
    text = '{"name": "calculate", "arguments": {}} {"name": "calculate", "arguments": {}}'
    [bad] = parse_text(text, tool_names={"calculate"}).malformed
    assert "Expecting ';' or a new line between calls" in bad.error


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (PYTHON_TAG_JSON, [("get_current_conditions", {"location": "Menlo Park"}, "python_tag")]),
        (
            PYTHON_TAG_LIST,
            [
                ("get_weather", {"city": "Paris"}, "python_tag"),
                ("get_time", {"timezone": "Europe/Paris"}, "python_tag"),
            ],
        ),
    ],
)
def test_python_tag_json(sample: str, expected: list[tuple[str, dict[str, Any], str]]) -> None:
    assert calls(parse_text(sample)) == expected


def test_python_tag_without_json_is_malformed() -> None:
    parsed = parse_text("<|python_tag|>brave_search.call(query='weather Paris')")
    assert parsed.tool_calls == []
    assert [m.dialect for m in parsed.malformed] == ["python_tag"]
    assert '"parameters"' in parsed.malformed[0].error


def test_mistral_list_form_with_template_space() -> None:
    parsed = parse_text("Sure, checking. " + MISTRAL_V3)
    assert parsed.text == "Sure, checking."
    assert calls(parsed) == [
        ("get_current_weather", {"location": "Paris, France", "format": "celsius"}, "mistral"),
        ("get_time", {"timezone": "Europe/Paris"}, "mistral"),
    ]


def test_mistral_v11_args_form() -> None:
    parsed = parse_text(MISTRAL_V11)
    assert calls(parsed) == [
        ("get_current_weather", {"location": "Paris, France", "format": "celsius"}, "mistral"),
        ("get_time", {"timezone": "Europe/Paris"}, "mistral"),
    ]
    with_call_id = parse_text('[TOOL_CALLS]add[CALL_ID]a1B2c3D4e[ARGS]{"a": 1}')
    assert calls(with_call_id) == [("add", {"a": 1}, "mistral")]


def test_mistral_marker_with_nothing_after_it_is_malformed() -> None:
    parsed = parse_text("[TOOL_CALLS]")
    assert parsed.tool_calls == []
    assert "[TOOL_CALLS]" in parsed.malformed[0].error


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (LLAMA32_PYTHONIC, [("get_user_info", {"user_id": 7890, "special": "black"}, "pythonic")]),
        (
            LLAMA4_PYTHONIC,
            [
                ("get_weather", {"location": "Menlo Park, CA"}, "pythonic"),
                ("get_time", {"timezone": "America/Los_Angeles"}, "pythonic"),
            ],
        ),
    ],
)
def test_pythonic_calls(sample: str, expected: list[tuple[str, dict[str, Any], str]]) -> None:
    assert calls(parse_text(sample)) == expected


def test_pythonic_nested_literals_and_json_names() -> None:
    parsed = parse_text(
        "[book(flight={'from': 'CDG', 'to': 'JFK', 'legs': [1, 2.5, -3]}, "
        "seats=('12A', '12B'), window=true, meal=null, insured=False, note=None)]"
    )
    assert calls(parsed) == [
        (
            "book",
            {
                "flight": {"from": "CDG", "to": "JFK", "legs": [1, 2.5, -3]},
                "seats": ["12A", "12B"],
                "window": True,
                "meal": None,
                "insured": False,
                "note": None,
            },
            "pythonic",
        )
    ]


@pytest.mark.parametrize(
    ("sample", "fragment"),
    [
        ("[add(a=__import__('os').getcwd())]", "not a literal"),
        ("[add(a=x + 1)]", "not a literal"),
        ("[add(1, 2)]", "by position"),
        ("[add(**{'a': 1})]", "unpacking"),
        ("[add(a={1: 2})]", "keys must be strings"),
        ("[add(a=1, b=2]", "not valid Python"),
    ],
)
def test_pythonic_never_evaluates(sample: str, fragment: str) -> None:
    parsed = parse_text(sample, tool_names={"add"})
    assert parsed.tool_calls == []
    assert parsed.malformed[0].name == "add"
    assert fragment in parsed.malformed[0].error
    assert "Write it as [add(ARGS)]" in parsed.malformed[0].error


def test_explicit_think_is_split_off() -> None:
    parsed = parse_text(EXPLICIT_THINK)
    assert (parsed.reasoning, parsed.text) == ("Two plus two is four.", "2 + 2 = 4.")


def test_think_opened_by_the_template_is_found_in_full_text() -> None:
    parsed = parse_text(IMPLICIT_THINK)
    assert (parsed.reasoning, parsed.text) == ("The user asks for 2 + 2. That is 4.", "2 + 2 = 4.")
    assert parse_text(IMPLICIT_THINK, starts_in_reasoning=False).text == (
        "The user asks for 2 + 2. That is 4.\n\n\n2 + 2 = 4."
    )


def test_think_opened_by_the_template_streams_as_reasoning() -> None:
    parser = StreamingTextParser(starts_in_reasoning=True)
    first = parser.feed("The user asks for 2 + 2.")
    assert first == [ReasoningDelta(text="The user asks for 2 + 2.")]
    rest = parser.feed(" That is 4.\n</think>\n\n2 + 2 = 4.") + parser.finish()
    assert rest == [ReasoningDelta(text=" That is 4."), TextDelta(text="2 + 2 = 4.")]


def test_unclosed_think_is_all_reasoning() -> None:
    parsed = parse_text("<think>\nStill thinking when the tokens ran out")
    assert (parsed.reasoning, parsed.text) == ("Still thinking when the tokens ran out", "")


def test_tool_call_inside_reasoning_is_not_a_call() -> None:
    parsed = parse_text(
        '<think>I could write <tool_call>{"name": "x", "arguments": {}}</tool_call>.</think>Done.'
    )
    assert parsed.tool_calls == []
    assert parsed.text == "Done."


def test_code_fences_and_trailing_commas_are_repaired() -> None:
    assert calls(parse_text(FENCED_LLAMA)) == [("get_weather", {"city": "Paris"}, "llama3")]
    hermes = (
        '<tool_call>\n```json\n{"name": "add", "arguments": {"a": 1, "b": [2, 3,],},}\n```\n'
        "</tool_call>"
    )
    assert calls(parse_text(hermes)) == [("add", {"a": 1, "b": [2, 3]}, "hermes")]


def test_comma_inside_a_string_is_kept() -> None:
    parsed = parse_text(
        '<tool_call>{"name": "say", "arguments": {"s": "a,}", "t": 1,}}</tool_call>'
    )
    assert calls(parsed) == [("say", {"s": "a,}", "t": 1}, "hermes")]


def test_unrepairable_json_is_malformed_with_a_helpful_error() -> None:
    parsed = parse_text(BROKEN_HERMES, id_prefix="r1")
    assert parsed.tool_calls == []
    [bad] = parsed.malformed
    assert (bad.id, bad.name, bad.dialect) == ("r1_0", "add", "hermes")
    assert bad.raw == '{"name": "add", "arguments": {"a": 1 "b": 2}}'
    assert bad.error == (
        "Your call to tool 'add' was not valid JSON (Expecting ',' delimiter at line 1 "
        'column 38). Write it as <tool_call>{"name": "add", "arguments": ARGS}'
        "</tool_call>, where ARGS is the arguments as one JSON object."
    )


@pytest.mark.parametrize(
    "sample",
    [
        '<tool_call>{"name": "add", "arguments": "{\\"a\\": 1}"}</tool_call>',
        '{"name": "add", "parameters": [1, 2]}',
        '[TOOL_CALLS] [{"name": "add", "arguments": 3}]',
        '[TOOL_CALLS]add[ARGS]"a=1"',
    ],
)
def test_arguments_that_are_not_an_object_are_malformed(sample: str) -> None:
    parsed = parse_text(sample, tool_names={"add"})
    assert parsed.tool_calls == []
    assert parsed.malformed[0].name == "add"
    assert "not a JSON object" in parsed.malformed[0].error


def test_call_without_name_is_malformed() -> None:
    parsed = parse_text('<tool_call>{"arguments": {"a": 1}}</tool_call>')
    assert parsed.malformed[0].name is None
    assert '"name"' in parsed.malformed[0].error


def test_unclosed_tool_call_block_at_the_end() -> None:
    assert calls(parse_text('<tool_call>\n{"name": "add", "arguments": {"a": 1}}')) == [
        ("add", {"a": 1}, "hermes")
    ]
    cut = parse_text('<tool_call>\n{"name": "add", "arguments": {"a": 1')
    assert "not closed" in cut.malformed[0].error


def test_broken_llama_json_naming_a_known_tool_is_malformed() -> None:
    parsed = parse_text('{"name": "add", "parameters": {"a": 1 "b": 2}}', tool_names={"add"})
    assert parsed.malformed[0].name == "add"
    assert parsed.malformed[0].dialect == "llama3"
    unknown = parse_text('{"name": "add", "parameters": {"a": 1 "b": 2}}', tool_names={"mul"})
    assert unknown.malformed == []
    assert unknown.text.startswith("{")


@pytest.mark.parametrize(
    "sample",
    [
        JSON_ANSWER,
        LIST_ANSWER,
        "[1, 2, 3]",
        "[]",
        '{"name": "Paris", "population": 2102650}',
        '{"name": "get_weather", "parameters": {"city": "Paris"}, "note": "extra key"}',
        '{"type": "object", "name": "get_weather", "parameters": {}}',
        '[{"name": "Alice"}, {"name": "Bob"}]',
        "[see the docs](https://example.com)",
        "```python\nprint('hi')\n```",
    ],
)
def test_ordinary_json_and_list_answers_stay_text(sample: str) -> None:
    parsed = parse_text(sample, tool_names={"get_weather"})
    assert parsed == ParsedText(text=sample, reasoning="", tool_calls=[], malformed=[])
    assert stream(list(sample), tool_names={"get_weather"}) == parsed


def test_whole_message_call_must_name_a_known_tool() -> None:
    assert parse_text(LLAMA31_JSON, tool_names={"get_weather"}).text == LLAMA31_JSON
    assert len(parse_text(LLAMA4_PYTHONIC, tool_names={"get_weather", "get_time"}).tool_calls) == 2


def test_pythonic_call_of_a_tool_not_offered_beside_one_offered_is_malformed() -> None:
    parsed = parse_text(LLAMA4_PYTHONIC, tool_names={"get_weather"})
    assert calls(parsed) == [("get_weather", {"location": "Menlo Park, CA"}, "pythonic")]
    [bad] = parsed.malformed
    assert (bad.id, bad.name, bad.raw) == (
        "call_1",
        "get_time",
        'get_time(timezone="America/Los_Angeles")',
    )
    assert "Your tools are: get_weather." in bad.error
    assert parsed.text == ""


def test_answer_text_streams_before_the_message_ends() -> None:
    parser = StreamingTextParser()
    assert parser.feed("Let me check ") == [TextDelta(text="Let me check")]
    assert parser.feed("the weather.<tool_") == [TextDelta(text=" the weather.")]
    assert parser.feed('call>\n{"name": "get_weather", ') == []
    events = parser.feed('"arguments": {"city": "Paris"}}\n</tool_call>')
    assert events == [
        ToolCallDelta(
            call=ToolCall(
                id="call_0", name="get_weather", arguments={"city": "Paris"}, dialect="hermes"
            )
        )
    ]
    assert parser.finish() == []


def test_almost_a_tag_is_released_as_text() -> None:
    parser = StreamingTextParser()
    assert parser.feed("a <th") == [TextDelta(text="a")]
    assert parser.feed("ing> b") == [TextDelta(text=" <thing> b")]


@pytest.mark.parametrize(
    "chunks", [["<th", "ink>r</th", "ink>", "ok"], ["[TOOL_", "CALLS] [", '{"name": "f"}]']]
)
def test_tags_split_across_chunks(chunks: list[str]) -> None:
    assert stream(chunks) == parse_text("".join(chunks))


def test_whole_message_candidates_wait_for_the_end() -> None:
    parser = StreamingTextParser()
    assert parser.feed('{"city": "Paris", ') == []
    assert parser.feed('"population": 2102650}') == []
    assert parser.finish() == [TextDelta(text=JSON_ANSWER)]


@pytest.mark.parametrize("sample", SAMPLES)
def test_streamed_char_by_char_equals_full_parse(sample: str) -> None:
    assert stream(list(sample)) == parse_text(sample, starts_in_reasoning=False)


@given(
    sample=st.sampled_from(SAMPLES),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_streamed_in_random_pieces_equals_full_parse(sample: str, cuts: list[int]) -> None:
    chunks = split(sample, [c for c in cuts if c <= len(sample)])
    assert stream(chunks, tool_names={"get_weather", "get_time"}) == parse_text(
        sample, tool_names={"get_weather", "get_time"}, starts_in_reasoning=False
    )


@given(cuts=st.lists(st.integers(min_value=0, max_value=len(IMPLICIT_THINK)), max_size=8))
def test_template_opened_think_streamed_equals_full_parse(cuts: list[int]) -> None:
    assert stream(split(IMPLICIT_THINK, cuts), starts_in_reasoning=True) == parse_text(
        IMPLICIT_THINK
    )


PIECES = [
    *("<think>", "</think>", "<tool_call>", "</tool_call>", "[TOOL_CALLS]", "<|python_tag|>"),
    *("<th", "<tool_", "[TOOL_", "[ARGS]", "```", "```json\n", "{", "}", "[", "]", ";", ","),
    *(" ", "\n", "a", "f(x=1)", '"name": "f"', '"arguments": {}', '"parameters": {"k": 1}'),
]


@given(
    pieces=st.lists(st.sampled_from(PIECES), max_size=25),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=10),
)
def test_any_text_streams_like_its_full_parse(pieces: list[str], cuts: list[int]) -> None:
    text = "".join(pieces)
    chunks = split(text, [c for c in cuts if c <= len(text)])
    assert stream(chunks) == parse_text(text, starts_in_reasoning=False)


def test_parser_refuses_use_after_finish() -> None:
    parser = StreamingTextParser()
    parser.finish()
    with pytest.raises(UsageError, match="after finish"):
        parser.feed("x")
    with pytest.raises(UsageError, match="twice"):
        parser.finish()


ROUND_TRIP_CALLS = [
    ToolCall(id="a", name="get_weather", arguments={"city": "Paris", "days": 3}),
    ToolCall(
        id="b",
        name="book",
        arguments={"legs": [{"from": "CDG", "to": "JFK"}], "window": True, "meal": None},
    ),
]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_render_round_trips(dialect: Dialect) -> None:
    rendered = render_tool_calls(ROUND_TRIP_CALLS, dialect)
    parsed = parse_text(rendered, tool_names={"get_weather", "book"}, id_prefix="x")
    assert [(c.id, c.name, c.arguments, c.dialect) for c in parsed.tool_calls] == [
        ("x_0", "get_weather", {"city": "Paris", "days": 3}, dialect),
        ("x_1", "book", ROUND_TRIP_CALLS[1].arguments, dialect),
    ]
    assert parsed.text == ""
    assert stream(list(rendered)) == parse_text(rendered, starts_in_reasoning=False)


def test_render_matches_each_family() -> None:
    call = ToolCall(id="a", name="get_weather", arguments={"city": "Paris"})
    assert render_tool_calls([call], "hermes", text="Checking.") == (
        'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
        "</tool_call>"
    )
    assert render_tool_calls([call], "llama3") == (
        '{"name": "get_weather", "parameters": {"city": "Paris"}}'
    )
    assert render_tool_calls([call], "python_tag") == (
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}'
    )
    assert render_tool_calls([call], "mistral") == (
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]'
    )
    assert render_tool_calls([call], "pythonic") == "[get_weather(city='Paris')]"


@pytest.mark.parametrize("dialect", ["hermes", "mistral"])
def test_render_with_text_round_trips(dialect: Dialect) -> None:
    parsed = parse_text(render_tool_calls(ROUND_TRIP_CALLS, dialect, text="One moment."))
    assert parsed.text == "One moment."
    assert len(parsed.tool_calls) == 2


def test_render_refuses_what_the_dialect_cannot_write() -> None:
    call = ToolCall(id="a", name="f", arguments={"class": 1})
    with pytest.raises(UsageError, match="whole message"):
        render_tool_calls([call], "llama3", text="hi")
    with pytest.raises(UsageError, match="not a Python identifier"):
        render_tool_calls([call], "pythonic")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
IDENTIFIERS = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name)
)


@given(
    dialect=st.sampled_from(DIALECTS),
    name=IDENTIFIERS,
    arguments=st.dictionaries(IDENTIFIERS, JSON_VALUES, max_size=4),
)
def test_render_round_trips_any_arguments(
    dialect: Dialect, name: str, arguments: dict[str, Any]
) -> None:
    rendered = render_tool_calls([ToolCall(id="a", name=name, arguments=arguments)], dialect)
    parsed = parse_text(rendered, tool_names={name})
    assert calls(parsed) == [(name, arguments, dialect)]


def test_a_broken_whole_message_call_of_an_offered_tool_is_malformed_not_an_answer() -> None:
    # Qwen2.5-Coder-1.5B-Instruct wrote this (doubled braces) when asked to call list_tables.
    text = '{{"name": "list_tables", "arguments": {}}}}'
    parsed = parse_text(text, tool_names={"list_tables"})
    assert parsed.text == ""
    [bad] = parsed.malformed
    assert bad.name == "list_tables" and "not valid JSON" in bad.error
    assert stream(list(text), tool_names={"list_tables"}) == parsed
    # The same text naming no offered tool stays an answer.
    assert parse_text(text, tool_names={"get_weather"}).text == text
