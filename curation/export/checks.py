"""Record-level checks shared by presets: chat message rules, tool JSON, alpaca fields.

Codes follow the OpenAI cookbook validator (reference §3.1) plus the stricter order rules of §2.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from curation.export.issues import Issue

TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "[INST]", "[/INST]", "<s>", "</s>", "<|eot_id|>")


@dataclass(frozen=True, slots=True)
class ChatDialect:
    """How one preset spells a chat: keys, role names, allowed message keys.

    Attributes
    ----------
    role_key, content_key:
        Message keys for the role and the text (``role``/``content`` or ``from``/``value``).
    roles:
        Role name in the file -> canonical role (system, user, assistant, tool, or ``call`` for
        a LLaMA-Factory ``function_call`` turn).
    allowed_keys:
        Every message key the preset writes; others are ``message_unrecognized_key``.
    tool_calls_key:
        The key carrying a list of calls on assistant messages, or None.
    """

    role_key: str = "role"
    content_key: str = "content"
    roles: Mapping[str, str] | None = None
    allowed_keys: Collection[str] = ("role", "content")
    tool_calls_key: str | None = None

    def canonical(self, role: Any) -> str | None:
        if not isinstance(role, str):
            return None
        if self.roles is None:
            return role if role in ("system", "user", "assistant", "tool") else None
        return self.roles.get(role)


def _issue(line: int, code: str, message: str) -> Issue:
    return Issue(line=line, example_id=None, code=code, message=message)


def check_tool_calls(calls: Any, line: int, where: str) -> list[Issue]:
    """``tool_calls`` must be a non-empty list of function calls with JSON-string arguments."""
    if not isinstance(calls, list) or not calls:
        return [_issue(line, "tool_call_invalid", f"{where}: tool_calls must be a non-empty list")]
    issues = []
    for k, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            issues.append(
                _issue(line, "tool_call_invalid", f"{where}: call {k} has no function name")
            )
            continue
        args = fn.get("arguments")
        if not isinstance(args, str):
            issues.append(
                _issue(
                    line, "tool_call_invalid", f"{where}: call {k} arguments must be a JSON string"
                )
            )
            continue
        try:
            json.loads(args)
        except json.JSONDecodeError as exc:
            issues.append(
                _issue(
                    line, "tool_call_invalid", f"{where}: call {k} arguments are not JSON ({exc})"
                )
            )
    return issues


def check_tools_value(value: Any, line: int, *, as_string: bool) -> list[Issue]:
    """Row-level ``tools``: a JSON string of a list (``as_string``) or a list of objects."""
    if as_string:
        if not isinstance(value, str):
            return [_issue(line, "tools_invalid", "tools must be a JSON string")]
        if value == "":
            return []
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            return [_issue(line, "tools_invalid", f"tools is not valid JSON ({exc})")]
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        return [_issue(line, "tools_invalid", "tools must be a list of objects")]
    return []


def check_chat(messages: Any, line: int, dialect: ChatDialect) -> list[Issue]:
    """Check one conversation.

    Reproduces the cookbook's codes (``missing_messages_list``, ``message_missing_key``,
    ``message_unrecognized_key``, ``unrecognized_role``, ``missing_content``,
    ``example_missing_assistant_message``), with tool calls admitted where the dialect has them,
    then the order rules: optional system first (``system_not_first``); user first and strict
    user/assistant alternation, tool results only right after an assistant tool call
    (``role_order``); assistant last (``last_not_assistant``); weights 0/1 on assistant
    messages (``weight_invalid``). A ``tool`` message that answers no call is reported as
    ``unrecognized_role`` (the cookbook does not know the role; we accept it only in place).
    """
    if not messages:
        return [_issue(line, "missing_messages_list", "messages is missing or empty")]
    if not isinstance(messages, list):
        return [_issue(line, "missing_messages_list", "messages must be a list of objects")]
    issues: list[Issue] = []
    rk, ck = dialect.role_key, dialect.content_key
    roles: list[str | None] = []
    has_calls: list[bool] = []
    for i, m in enumerate(messages):
        where = f"message {i}"
        if not isinstance(m, dict):
            issues.append(_issue(line, "data_type", f"{where} is not an object"))
            roles.append(None)
            has_calls.append(False)
            continue
        calls = m.get(dialect.tool_calls_key) if dialect.tool_calls_key else None
        role = dialect.canonical(m.get(rk))
        is_call = bool(calls) and role == "assistant" or role == "call"
        roles.append(role)
        has_calls.append(is_call)
        if rk not in m or (ck not in m and not is_call):
            missing = [k for k in (rk, ck) if k not in m]
            issues.append(_issue(line, "message_missing_key", f"{where} lacks {missing}"))
        extra = sorted(k for k in m if k not in dialect.allowed_keys)
        if extra:
            issues.append(
                _issue(
                    line,
                    "message_unrecognized_key",
                    f"{where} has keys {extra}; allowed: {sorted(dialect.allowed_keys)}",
                )
            )
        if role is None:
            allowed = (
                sorted(dialect.roles) if dialect.roles else ["assistant", "system", "tool", "user"]
            )
            issues.append(
                _issue(line, "unrecognized_role", f"{where} role {m.get(rk)!r}; allowed: {allowed}")
            )
        content = m.get(ck)
        if is_call and role == "assistant":
            if content is not None and not isinstance(content, str):
                issues.append(_issue(line, "missing_content", f"{where} content is not a string"))
        elif not isinstance(content, str) or not content:
            issues.append(
                _issue(line, "missing_content", f"{where} content is empty or not a string")
            )
        elif not content.strip():
            issues.append(_issue(line, "blank_content", f"{where} content is only whitespace"))
        if is_call and calls is not None:
            issues.extend(check_tool_calls(calls, line, where))
        if "weight" in m:
            w = m["weight"]
            if role != "assistant" and "weight" in dialect.allowed_keys and w == 0:
                pass  # presets that keep message keys uniform write weight 0 on other roles
            elif isinstance(w, bool) or w not in (0, 1) or role != "assistant":
                issues.append(
                    _issue(
                        line,
                        "weight_invalid",
                        f"{where} weight {w!r} must be the integer 0 or 1 on an assistant message",
                    )
                )
    if not any(r in ("assistant", "call") for r in roles):
        issues.append(_issue(line, "example_missing_assistant_message", "no assistant message"))
        return issues
    issues.extend(_check_order(roles, has_calls, line))
    return issues


def _check_order(roles: list[str | None], has_calls: list[bool], line: int) -> list[Issue]:
    issues: list[Issue] = []
    start = 1 if roles and roles[0] == "system" else 0
    if "system" in roles[start:]:
        issues.append(_issue(line, "system_not_first", "a system message is only allowed first"))
    expect = "user"
    for i in range(start, len(roles)):
        role = roles[i]
        if role is None or role == "system":
            continue
        if role == "tool" and expect not in ("tool", "tool_or_assistant"):
            issues.append(
                _issue(
                    line,
                    "unrecognized_role",
                    f"message {i}: a tool message must answer an assistant tool call",
                )
            )
            continue
        ok = (
            (expect == "user" and role == "user")
            or (expect == "assistant" and role in ("assistant", "call"))
            or (expect == "tool" and role == "tool")
            or (expect == "tool_or_assistant" and role in ("tool", "assistant", "call"))
        )
        if not ok:
            issues.append(
                _issue(line, "role_order", f"message {i} is {role!r} where {expect!r} was expected")
            )
            return issues
        if role in ("assistant", "call"):
            expect = "tool" if has_calls[i] else "user"
        elif role == "tool":
            expect = "tool_or_assistant"
        else:
            expect = "assistant"
    last = roles[-1]
    if last not in ("assistant", "call"):
        issues.append(
            _issue(line, "last_not_assistant", f"the last message is {last!r}, not assistant")
        )
    return issues


def check_strings(
    record: Mapping[str, Any], keys: Collection[str], line: int, *, non_empty: Collection[str] = ()
) -> list[Issue]:
    """Each key in ``keys`` present as a string; those in ``non_empty`` also non-blank."""
    issues = []
    for key in keys:
        value = record.get(key)
        if not isinstance(value, str):
            issues.append(
                _issue(line, "missing_content", f"{key!r} must be a string, got {value!r:.40}")
            )
        elif key in non_empty and not value.strip():
            issues.append(_issue(line, "missing_content", f"{key!r} is empty"))
    return issues


def check_template_tokens(texts: list[str], line: int) -> list[Issue]:
    """Warn about leftover chat-template tokens in text."""
    for text in texts:
        for token in TEMPLATE_TOKENS:
            if token in text:
                return [
                    _issue(line, "template_token", f"text contains the template token {token!r}")
                ]
    return []
