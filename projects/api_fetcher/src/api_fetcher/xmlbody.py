"""XML response bodies as the nested dicts and lists a JSON body gives, so `records_path`, the
pagination paths and the record schema work the same on both.

`<orders total_pages="3"><order id="7"><amount>9.50</amount></order>...</orders>` becomes
`{"orders": {"@total_pages": "3", "order": [{"@id": "7", "amount": "9.50"}, ...]}}`: attributes
as `@name`, a repeated child as a list, text kept exactly as sent (XML has no types, so values stay
strings; a schema or the sink decides), namespaces dropped from names. An element holding both
text and children keeps its text under `#text`.

Parsed with defusedxml: an API's answer is untrusted input, so entity expansion ("billion
laughs"), external entities and DTDs are refused instead of resolved.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException


class XmlRefused(ValueError):
    """The body is not well-formed XML, or uses entities or a DTD, which are refused."""


def parse(data: bytes) -> dict[str, Any]:
    """The document as `{root_name: value}`."""
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise XmlRefused(f"XML with entities or a DTD refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise XmlRefused(f"body is not well-formed XML: {exc}") from None
    return {_local(root.tag): _value(root)}


def _local(tag: str) -> str:
    """`{http://example.com/ns}order` -> `order`."""
    return tag.rsplit("}", 1)[-1]


def _value(element: Element) -> Any:
    children = list(element)
    attributes = {f"@{_local(k)}": v for k, v in element.attrib.items()}
    if not children and not attributes:
        return element.text or ""
    out: dict[str, Any] = attributes
    lists: set[str] = set()
    for child in children:
        name, value = _local(child.tag), _value(child)
        if name in lists:
            out[name].append(value)
        elif name in out:
            out[name] = [out[name], value]
            lists.add(name)
        else:
            out[name] = value
    text = element.text or ""
    if text.strip():  # whitespace between child elements is layout, not data
        out["#text"] = text
    return out
