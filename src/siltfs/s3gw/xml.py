"""XML documents: S3 responses out (:func:`document`), request bodies in (:func:`parse`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from siltfs.s3gw.errors import S3Error

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
# a tree: {"Tag": "text" | int | bool | None | Tree | [Tree, ...]}; lists repeat the tag
Tree = Mapping[str, Any]  # tag -> str | int | bool | None | Tree | list of those
MAX_BODY = 2 * 1024 * 1024  # request documents (DeleteObjects, Complete) are small


def _text(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, tree: Tree) -> None:
    for tag, value in tree.items():
        if value is None:
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            child = ET.SubElement(parent, tag)
            if isinstance(item, Mapping):
                _fill(child, item)
            else:
                child.text = _text(item)  # str, int or bool


def document(root: str, tree: Tree, *, namespace: bool = True) -> bytes:
    """``<?xml ...?><root xmlns=...>tree</root>`` as bytes."""
    element = ET.Element(root, {"xmlns": NS} if namespace else {})
    _fill(element, tree)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return body


def text_document(root: str, text: str) -> bytes:
    """``<root xmlns=...>text</root>``."""
    element = ET.Element(root, {"xmlns": NS})
    element.text = text or None
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return body


def error_document(err: S3Error, request_id: str) -> bytes:
    tree: dict[str, Any] = {"Code": err.code, "Message": err.message}
    if err.resource:
        tree["Resource"] = err.resource
    tree.update(err.details)
    tree["RequestId"] = request_id
    return document("Error", tree, namespace=False)


def _strip(element: ET.Element) -> None:
    for el in element.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]


def parse(body: bytes, root: str) -> ET.Element:
    """The request document *body*, whose root must be *root* (namespaces dropped);
    MalformedXML otherwise.  The parser resolves no external entities, and expat refuses
    entity-expansion bombs."""
    if not body.strip():
        raise S3Error("MalformedXML", f"the request body must be a <{root}> document", 400)
    try:
        element = ET.fromstring(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML", f"the <{root}> document is not valid XML: {exc}") from exc
    _strip(element)
    if element.tag != root:
        raise S3Error("MalformedXML", f"expected a <{root}> document, got <{element.tag}>")
    return element


def child_text(element: ET.Element, tag: str) -> str | None:
    child = element.find(tag)
    return None if child is None else (child.text or "")
