"""Text as people typed it: Slack's message markup decoded at the edge, before grading and storing.

Slack delivers `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;`, and wraps mentions, channels and links in
angle brackets (`<@U123>`, `<#C123|general>`, `<https://x|label>`, `<!here>`). The grader and the
database see the readable text; what is shown back is escaped once on the way out (`blocks.escape`).
See https://api.slack.com/reference/surfaces/formatting#escaping.
"""

from __future__ import annotations

import re

# Everything between < and > is Slack's markup; a literal < typed by a person arrives as &lt;.
_MARKUP = re.compile(r"<([^<>]*)>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def unescape(text: str) -> str:
    """Only the three entities: for slash-command words, whose `<@U…>` and `<#C…>` are parsed as such."""
    return _unescape(text)


def _unescape(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def _readable(inner: str) -> str:
    target, _, label = inner.partition("|")
    label = _unescape(label)
    if target.startswith("@"):  # a person: <@U123> or <@U123|ana>
        return "@" + (label or target[1:])
    if target.startswith("#"):  # a channel: <#C123|general>, or <#C123|> when Slack left the name out
        return "#" + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!channel>, <!subteam^S1|@sre>, <!date^…|fallback>
        if label:
            return label
        word = target[1:].split("^", 1)[0]
        return "@" + word
    url = _unescape(target)
    if url.startswith("mailto:"):
        return label or url.removeprefix("mailto:")
    if label and label != url:
        return f"{label} ({url})"
    return url


def readable(text: str) -> str:
    """What the person typed, from the text of a message event.

    Mentions become `@name` (or `@U123` when Slack sent no name), channels `#name`, links their label
    followed by the address, and entities their characters. NUL, which PostgreSQL cannot store in text
    and nobody types on purpose, becomes U+FFFD."""
    decoded = _MARKUP.sub(lambda m: _readable(m.group(1)), text)
    return _unescape(decoded).replace("\x00", "\ufffd")
