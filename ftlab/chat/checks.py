"""The rules one chat example must follow, as small functions that return problems.

``validate_chat`` (in ``chat_validate``) streams a file and calls these for each example; file-level
checks (duplicates, leakage, system-prompt consistency, length outliers) live there. Each check
returns a list of :class:`ftlab.chat.files.Problem` so the caller decides what to keep.

The first seven codes are the OpenAI cookbook's format checker's; the rest follow the fine-tuning
guide (weights, multimodal content parts, tool calling, preference data).
"""

import json

from ftlab.chat.files import Problem

ROLES = ("system", "user", "assistant", "tool", "function")
MESSAGE_KEYS = ("role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call")
_PLAIN_ROLES = ("system", "user", "assistant")  # roles with no extra rules for a plain message
TOP_LEVEL_KEYS = ("messages", "tools", "functions", "parallel_tool_calls")
PREFERENCE_KEYS = ("input", "preferred_output", "non_preferred_output")

# How to fix each code, said once here so every problem of a kind gives the same advice.
FIXES = {
    "data_type": "Each line must be a JSON object such as {\"messages\": [...]}.",
    "missing_messages_list": "Give the example a non-empty \"messages\" list of {\"role\", \"content\"} objects.",
    "message_missing_key": "Every message needs \"role\" and \"content\" (an assistant message with "
                           "\"tool_calls\" may leave content out).",
    "message_unrecognized_key": f"Remove the key; messages may only have {', '.join(MESSAGE_KEYS)}.",
    "unrecognized_role": "Use one of the roles system, user, assistant or tool.",
    "missing_content": "Write the message's text in \"content\" (a non-empty string).",
    "example_missing_assistant_message": "Add the assistant reply you want the model to learn.",
    "content_type": "content must be a string, or a list of parts like {\"type\": \"text\", \"text\": \"...\"}.",
    "invalid_weight": "weight is only allowed on assistant messages, as the integer 0 (skip) or 1 (train).",
    "invalid_tool_calls": "Write tool_calls as [{\"id\": \"call_1\", \"type\": \"function\", \"function\": "
                          "{\"name\": \"...\", \"arguments\": \"{...}\"}}] on an assistant message.",
    "tool_arguments_not_json": "function.arguments must be a *string* holding JSON, e.g. "
                               "json.dumps({\"city\": \"Paris\"}).",
    "tool_call_id_mismatch": "A tool message answers an earlier assistant tool call: set its "
                             "\"tool_call_id\" to that call's \"id\".",
    "invalid_tools": "Define tools as [{\"type\": \"function\", \"function\": {\"name\": \"...\", "
                     "\"parameters\": {JSON schema}}}].",
    "legacy_prompt_completion": "Chat models need {\"messages\": [...]}: convert with ftlab.to_chat(records).",
    "preference_missing_key": "A preference example needs \"input\" {\"messages\": [...]}, "
                              "\"preferred_output\" and \"non_preferred_output\".",
    "preference_invalid_output": "preferred_output and non_preferred_output must each be a list "
                                 "with one assistant message with text content.",
    "unrecognized_key": f"Remove the key; an example may have {', '.join(TOP_LEVEL_KEYS)}.",
    "deprecated_functions": "Use tools/tool_calls/role \"tool\" instead of the deprecated "
                            "functions/function_call/role \"function\".",
    "no_trained_assistant_turns": "Set \"weight\": 1 on at least one assistant message, or drop the example.",
    "last_message_not_assistant": "End the example with the assistant reply; later messages are not trained on.",
    "preference_identical_outputs": "Make the non-preferred output actually differ from the preferred one.",
    # file-level checks (chat_validate)
    "empty_file": "The file has no examples: check you exported the right file.",
    "too_few_examples": "Fine-tuning needs at least 10 examples; 50–100 good ones usually show a clear gain.",
    "too_many_tokens": "Shorten the example or split it: tokens past the model's limit are cut off.",
    "duplicate_example": "Remove the repeat: duplicates over-weight one example and inflate validation scores.",
    "conflicting_replies": "Decide which reply is right and give it to every copy of the prompt: "
                           "contradictory targets teach the model to hedge between them.",
    "leakage": "Remove this example from training (or the validation file): the validation score "
               "would reward memorising it.",
    "missing_system_prompt": "Use the same system prompt in every example, and at inference time.",
    "system_prompt_variant": "Use one system prompt everywhere, or make sure the variants are intended.",
    "long_example": "Check the example is what you meant; very long outliers dominate the billed tokens.",
    "short_example": "Check the example is complete; a near-empty example teaches little.",
}


def problem(line, code, message, field="", severity="error"):
    return Problem(line, code, message, FIXES[code], field, severity)


def _check_content(msg, where, line, role):
    content, has_calls = msg.get("content"), bool(msg.get("tool_calls") or msg.get("function_call"))
    if "content" not in msg:
        return [] if has_calls else [problem(line, "message_missing_key",
                                             "the message has no \"content\".", f"{where}.content")]
    if content is None or (isinstance(content, str) and not content.strip()):
        if has_calls:
            return []
        return [problem(line, "missing_content", "content is empty.", f"{where}.content")]
    if isinstance(content, str):
        return []
    if isinstance(content, list) and content:
        for j, part in enumerate(content):
            ok = isinstance(part, dict) and isinstance(part.get("type"), str) and (
                part["type"] != "text" or isinstance(part.get("text"), str))
            if not ok:
                return [problem(line, "content_type", f"content part {j} is not a typed part "
                                f"({_short(part)}).", f"{where}.content[{j}]")]
        return []
    return [problem(line, "content_type", f"content is {_a_type(content)}, not a string.",
                    f"{where}.content")]


def _check_tool_calls(calls, where, line, role, call_ids):
    field = f"{where}.tool_calls"
    if role != "assistant":
        return [problem(line, "invalid_tool_calls", f"a {role} message has tool_calls.", field)]
    if not isinstance(calls, list) or not calls:
        return [problem(line, "invalid_tool_calls", "tool_calls must be a non-empty list.", field)]
    out = []
    for k, call in enumerate(calls):
        f = f"{field}[{k}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not call["id"]:
            out.append(problem(line, "invalid_tool_calls", "the tool call has no string \"id\".", f"{f}.id"))
            continue
        call_ids.add(call["id"])
        if call.get("type") != "function":
            out.append(problem(line, "invalid_tool_calls",
                               f"type is {_short(call.get('type'))}, not \"function\".", f"{f}.type"))
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            out.append(problem(line, "invalid_tool_calls", "function.name is missing.", f"{f}.function.name"))
        elif not isinstance(fn.get("arguments"), str):
            out.append(problem(line, "tool_arguments_not_json",
                               f"arguments is {_a_type(fn.get('arguments'))}, not a JSON string.",
                               f"{f}.function.arguments"))
        else:
            try:
                json.loads(fn["arguments"])
            except ValueError as exc:
                out.append(problem(line, "tool_arguments_not_json",
                                   f"arguments is not valid JSON ({exc}).", f"{f}.function.arguments"))
    return out


def check_message(msg, where, line, call_ids):
    """Problems of one message; ``call_ids`` collects the tool call ids seen so far in the example."""
    if not isinstance(msg, dict):
        return [problem(line, "data_type", f"the message is {_a_type(msg)}, not an object.", where)]
    out = []
    for key in msg:
        if key not in MESSAGE_KEYS:
            out.append(problem(line, "message_unrecognized_key", f"unknown key {key!r}.", f"{where}.{key}"))
    role = msg.get("role")
    if "role" not in msg:
        out.append(problem(line, "message_missing_key", "the message has no \"role\".", f"{where}.role"))
    elif role not in ROLES:
        out.append(problem(line, "unrecognized_role", f"role {_short(role)} is not known.", f"{where}.role"))
    elif role == "function" or "function_call" in msg:
        out.append(problem(line, "deprecated_functions", "functions/function_call are deprecated.",
                           where, "warning"))
    out += _check_content(msg, where, line, role)
    if "weight" in msg:
        w = msg["weight"]
        if role != "assistant":
            out.append(problem(line, "invalid_weight", f"weight on a {role} message.", f"{where}.weight"))
        elif isinstance(w, bool) or w not in (0, 1) or not isinstance(w, int):
            out.append(problem(line, "invalid_weight", f"weight is {_short(w)}, not 0 or 1.", f"{where}.weight"))
    if "tool_calls" in msg:
        out += _check_tool_calls(msg["tool_calls"], where, line, role, call_ids)
    if role == "tool":
        tid = msg.get("tool_call_id")
        if not isinstance(tid, str):
            out.append(problem(line, "tool_call_id_mismatch", "the tool message has no \"tool_call_id\".",
                               f"{where}.tool_call_id"))
        elif tid not in call_ids:
            out.append(problem(line, "tool_call_id_mismatch",
                               f"tool_call_id {tid!r} matches no earlier assistant tool call.",
                               f"{where}.tool_call_id"))
    if "name" in msg and not isinstance(msg["name"], str):
        out.append(problem(line, "data_type", f"name is {_a_type(msg['name'])}, not a string.",
                           f"{where}.name"))
    return out


def check_tools(tools, line, field="tools"):
    if not isinstance(tools, list):
        return [problem(line, "invalid_tools", f"tools is {_a_type(tools)}, not a list.", field)]
    for k, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict) \
                or not isinstance(fn.get("name"), str) or not fn["name"] \
                or not isinstance(fn.get("parameters", {}), dict):
            return [problem(line, "invalid_tools", f"tool {k} is not a function definition "
                            f"({_short(tool)}).", f"{field}[{k}]")]
    return []


def check_messages(messages, line, prefix="messages"):
    """Problems of a whole messages list (not the example's other keys)."""
    if not isinstance(messages, list) or not messages:
        what = "missing" if messages is None else f"{_a_type(messages)}" if not isinstance(
            messages, list) else "empty"
        return [problem(line, "missing_messages_list", f"\"messages\" is {what}.", prefix)]
    out, call_ids = [], set()
    for i, msg in enumerate(messages):
        # fast path for the usual {"role", "content"} message (this loop runs for every message)
        if type(msg) is dict and len(msg) == 2 and msg.get("role") in _PLAIN_ROLES:
            content = msg.get("content")
            if type(content) is str and content and not content.isspace():
                continue
        out += check_message(msg, f"{prefix}[{i}]", line, call_ids)
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if "assistant" not in roles:
        out.append(problem(line, "example_missing_assistant_message", "no assistant message.", prefix))
    else:
        weights = [m.get("weight", 1) for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
        if all(w == 0 for w in weights):
            out.append(problem(line, "no_trained_assistant_turns",
                               "every assistant message has weight 0: nothing is trained.", prefix, "warning"))
        if roles[-1] not in ("assistant", None):
            out.append(problem(line, "last_message_not_assistant",
                               f"the example ends with a {roles[-1]} message.", f"{prefix}[{len(roles) - 1}]",
                               "warning"))
    return out


def check_chat_example(ex, line):
    """All per-example problems of a chat example (a parsed JSON line)."""
    if not isinstance(ex, dict):
        return [problem(line, "data_type", f"the example is {_a_type(ex)}, not an object.")]
    if "messages" not in ex and "prompt" in ex and "completion" in ex:
        return [problem(line, "legacy_prompt_completion",
                        "this is the legacy {prompt, completion} format, not chat.")]
    out = []
    for key in ex:
        if key not in TOP_LEVEL_KEYS:
            out.append(problem(line, "unrecognized_key", f"unknown key {key!r}.", key, "warning"))
    if "functions" in ex:
        out.append(problem(line, "deprecated_functions", "\"functions\" is deprecated.", "functions", "warning"))
    if "tools" in ex:
        out += check_tools(ex["tools"], line)
    return out + check_messages(ex.get("messages"), line)


def _check_output(value, line, field):
    ok = (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)
          and value[0].get("role") == "assistant" and isinstance(value[0].get("content"), str)
          and value[0]["content"].strip())
    return [] if ok else [problem(line, "preference_invalid_output",
                                  f"{field} is {_short(value)}.", field)]


def check_preference_example(ex, line):
    """Problems of a preference (DPO) example {input, preferred_output, non_preferred_output}."""
    if not isinstance(ex, dict):
        return [problem(line, "data_type", f"the example is {_a_type(ex)}, not an object.")]
    missing = [k for k in PREFERENCE_KEYS if k not in ex]
    if missing:
        return [problem(line, "preference_missing_key", f"missing {', '.join(missing)}.", missing[0])]
    inp = ex["input"]
    if not isinstance(inp, dict):
        return [problem(line, "preference_missing_key", f"input is {_a_type(inp)}, not an object.", "input")]
    out = check_messages(inp.get("messages"), line, "input.messages")
    # the input is the prompt: its assistant reply lives in the outputs
    out = [p for p in out if p.code not in ("example_missing_assistant_message", "last_message_not_assistant")]
    if "tools" in inp:
        out += check_tools(inp["tools"], line, "input.tools")
    out += _check_output(ex["preferred_output"], line, "preferred_output")
    out += _check_output(ex["non_preferred_output"], line, "non_preferred_output")
    if not out and ex["preferred_output"] == ex["non_preferred_output"]:
        out.append(problem(line, "preference_identical_outputs", "both outputs are the same.",
                           "non_preferred_output", "warning"))
    return out


def detect_format(ex):
    """``"chat"``, ``"preference"`` or ``"prompt_completion"`` for one parsed example."""
    if isinstance(ex, dict):
        if "input" in ex and ("preferred_output" in ex or "non_preferred_output" in ex):
            return "preference"
        if "messages" not in ex and "prompt" in ex and "completion" in ex:
            return "prompt_completion"
    return "chat"


def _json_type(value):
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _a_type(value):
    name = _json_type(value)
    return ("an " if name[0] in "aeiou" else "a ") + name


def _short(value, n=40):
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= n else text[: n - 1] + "…"
