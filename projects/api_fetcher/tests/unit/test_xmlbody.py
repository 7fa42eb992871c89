"""XML bodies become the dicts and lists a JSON body gives; hostile XML is refused, not expanded."""

from __future__ import annotations

import pytest
from api_fetcher.records import dig, page_records
from api_fetcher.xmlbody import XmlRefused, parse


def test_attributes_repeats_and_text_keep_what_was_sent() -> None:
    body = parse(
        b'<?xml version="1.0"?>\n<orders page="2" total_pages="3">\n'
        b'  <order id="7"><amount>9.50</amount><note>  two  spaces </note><tag>a</tag><tag>b</tag></order>\n'
        b'  <order id="8"><amount>NA</amount><note/></order>\n'
        b"</orders>"
    )
    assert dig(body, "orders.@total_pages") == "3"
    orders = page_records(body, "orders.order")
    assert orders == [
        {"@id": "7", "amount": "9.50", "note": "  two  spaces ", "tag": ["a", "b"]},
        {"@id": "8", "amount": "NA", "note": ""},
    ]


def test_one_child_is_one_record_and_namespaces_are_dropped() -> None:
    body = parse(b'<r:feed xmlns:r="urn:x"><r:item><r:id>1</r:id></r:item>text</r:feed>')
    assert page_records(body, "feed.item") == [{"id": "1"}]
    mixed = parse(b"<p>lead <b>bold</b></p>")
    assert mixed == {"p": {"b": "bold", "#text": "lead "}}


@pytest.mark.parametrize(
    "hostile",
    [
        # "billion laughs": nested entity expansion
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
        # an external entity reading a local file
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY f SYSTEM "file:///etc/passwd">]><x>&f;</x>',
    ],
    ids=["entity-expansion", "external-entity"],
)
def test_entities_and_dtds_are_refused(hostile: bytes) -> None:
    with pytest.raises(XmlRefused, match="entities or a DTD refused"):
        parse(hostile)


def test_malformed_xml_is_one_clear_error() -> None:
    with pytest.raises(XmlRefused, match="not well-formed XML"):
        parse(b"<orders><order></orders>")
