"""The embedded server's use of a GGUF's own chat template (no model needed)."""

from __future__ import annotations

import json

import pytest

from covey.models._llama_template import ModelTemplate, handles_tools

# A tool-aware template in the style instruction-tuned models ship (Hermes/Qwen form):
# tools listed in the system turn, calls as <tool_call> JSON, results as <tool_response>.
TOOL_TEMPLATE = """{{ bos_token }}
{%- if tools %}<|im_start|>system
{{ messages[0].content if messages[0].role == 'system' else 'You are helpful.' }}
<tools>
{% for tool in tools %}{{ tool | tojson }}
{% endfor %}</tools><|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'system' and tools %}{% continue %}{% endif %}
{%- if message.role == 'tool' %}<|im_start|>user
<tool_response>{{ message.content }}</tool_response><|im_end|>
{% elif message.tool_calls %}<|im_start|>assistant
{% for call in message.tool_calls %}<tool_call>{"name": "{{ call.function.name }}", \
"arguments": {{ call.function.arguments | tojson }}}</tool_call>{% endfor %}<|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "calculate",
            "description": "Evaluate an arithmetic expression.",
            "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}},
        },
    }
]


def test_a_template_that_reads_tools_is_used_one_that_does_not_is_not() -> None:
    assert handles_tools(TOOL_TEMPLATE)
    plain = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}{% endfor %}"
    assert not handles_tools(plain)


def test_tools_calls_and_results_render_as_the_model_was_trained() -> None:
    template = ModelTemplate(TOOL_TEMPLATE, bos_token="<s>", eos_token="<|im_end|>")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2 * 21?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "calculate", "arguments": '{"expression": "2 * 21"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    prompt = template.render(messages, TOOLS)
    assert not prompt.startswith("<s>")  # the tokenizer adds BOS; the template's is dropped
    assert prompt.startswith("<|im_start|>system\nBe brief.\n<tools>\n")
    assert json.dumps(TOOLS[0], ensure_ascii=False) in prompt
    # Arguments arrive as a string in the OpenAI API and go back as the object they encode.
    assert '<tool_call>{"name": "calculate", "arguments": {"expression": "2 * 21"}}' in prompt
    assert "<tool_response>42</tool_response>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_text_is_passed_byte_for_byte() -> None:
    template = ModelTemplate(TOOL_TEMPLATE, bos_token="", eos_token="<|im_end|>")
    text = "<b>&amp; \"quotes\" 'and' ünïcode</b>"
    prompt = template.render([{"role": "user", "content": text}])
    assert f"<|im_start|>user\n{text}<|im_end|>" in prompt


def test_a_template_that_is_not_jinja_or_breaks_out_of_the_sandbox_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid Jinja"):
        ModelTemplate("{% for %}", bos_token="", eos_token="")
    escape = ModelTemplate(
        "{{ ''.__class__.__mro__[1].__subclasses__() }}", bos_token="", eos_token=""
    )
    with pytest.raises(ValueError, match="chat template failed"):
        escape.render([{"role": "user", "content": "hi"}])
    refusing = ModelTemplate(
        "{{ raise_exception('roles must alternate') }}", bos_token="", eos_token=""
    )
    with pytest.raises(ValueError, match="roles must alternate"):
        refusing.render([{"role": "user", "content": "hi"}])
