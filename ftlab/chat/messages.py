"""The text of a chat message: what token counting, duplicate finding and checks all read.

A message's ``content`` is a string or, in the newer format, a list of typed parts
(``[{"type": "text", "text": ...}, ...]``); everything that reads text goes through here so both
shapes count the same.
"""


def content_text(content):
    """The text of a message's content: a string, or the ``text`` of typed parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""
