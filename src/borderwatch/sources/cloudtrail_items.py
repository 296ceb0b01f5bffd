"""DynamoDB items a CloudTrail data event names, as resource names a subject key can match.

CloudTrail logs a DynamoDB data event's key attributes in `requestParameters` (never the
values of other attributes: the classic API leaves them out, PartiQL statements show them
as `***(Redacted)`). Each item an event names becomes one resource name:

    arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/item/ATTR=VALUE[/ATTR=VALUE]

with the attributes sorted by name (code points) and every name and value
percent-encoded (RFC 3986; only letters, digits and `-._~@:+` stay as they are), so a
value holding `/` or `=` cannot forge another attribute or item. The table part is the
table's ARN when `tableName` is one, else built from the event's region and account.

What is read (docs/dsp.md, "DynamoDB items"):

- `key` with `tableName`: GetItem, PutItem, UpdateItem, DeleteItem (one item);
- `requestItems`: BatchGetItem / BatchWriteItem (per table, its `keys` or the `key` of
  each put or delete request) and TransactGetItems / TransactWriteItems as CloudTrail
  logs them (a list of entries with `tableName` and `key`); `transactItems` in the API's
  own shape (`{"Get": {"tableName": .., "key": ..}}`);
- `statement` (ExecuteStatement) and `statements` or `requests` (BatchExecuteStatement):
  a PartiQL SELECT, UPDATE, DELETE or INSERT whose WHERE clause is equalities joined by
  AND (or whose INSERT value is an object) names the item of its literal values;
- `keyConditionExpression` with `expressionAttributeValues` (Query): the equality
  conditions name the partition the query read (`table/T/item/pk=V`): a subject key on
  the partition key counts it as one subject.

An event is all or nothing: when any part of what it names cannot be read (a statement
with OR or IN, a key that is not an object, a Query whose values are not logged), it
names no item and counts as a read of the whole store. A typed attribute value
(`{"S": "x"}`) counts as its value.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["ITEM_PARAMETERS", "item_names"]

# The requestParameters that may name items (besides tableName).
ITEM_PARAMETERS = (
    "key",
    "requestItems",
    "transactItems",
    "statement",
    "statements",
    "requests",
    "keyConditionExpression",
    "expressionAttributeValues",
    "expressionAttributeNames",
)
DYNAMODB = "dynamodb.amazonaws.com"
_SAFE = "-._~@:+"
_TYPED = ("S", "N", "B", "BOOL")


class _Unreadable(Exception):
    """Part of what an event names cannot be read: it names no item (whole store)."""


def item_names(
    service: str | None, parameters: Mapping[str, Any], region: str | None, account: str | None
) -> list[str]:
    """The item resource names of one DynamoDB data event (see the module's docstring).

    `parameters`: its requestParameters (at least the ITEM_PARAMETERS and tableName).
    [] for other services and for events that name no item or cannot be read whole.
    """
    if service != DYNAMODB:
        return []
    table = _table_prefix(region, account)
    try:
        found = [f"{table(name)}/item/{_attributes(key)}" for name, key in _items(parameters)]
    except _Unreadable:
        return []
    return list(dict.fromkeys(found))


def _table_prefix(region: str | None, account: str | None) -> Any:
    def prefix(name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:dynamodb:{region or ''}:{account or ''}:table/{name}"

    return prefix


def _items(parameters: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(table name, key attributes) of every item the parameters name."""
    table = parameters.get("tableName") or parameters.get("TableName")
    key = parameters.get("key")
    if key is not None and not isinstance(key, str):  # an S3 object key is a string
        yield _named(table), _key(key)
    requested = parameters.get("requestItems")
    if requested is not None:
        yield from _request_items(requested)
    transact = parameters.get("transactItems")
    if transact is not None:
        for entry in _list(transact):
            for operation in _object(entry).values():
                body = _object(operation)
                yield (
                    _named(body.get("tableName") or body.get("TableName")),
                    _key(_first(body, "key", "Key")),
                )
    for name in ("statement", "statements", "requests"):
        value = parameters.get(name)
        if value is None:
            continue
        for statement in [value] if isinstance(value, str) else _list(value):
            text = statement if isinstance(statement, str) else _first(statement, "statement")
            found = _partiql(text)
            if found is not None:
                yield found
    condition = parameters.get("keyConditionExpression")
    if condition is not None:
        yield _named(table), _query_partition(condition, parameters)


def _request_items(requested: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(requested, list):  # Transact*Items as CloudTrail logs them
        for entry in requested:
            body = _object(entry)
            table = _named(body.get("tableName") or body.get("TableName"))
            keys = _first(body, "key", "Key", "keys", "Keys")
            for key in keys if isinstance(keys, list) else [keys]:
                yield table, _key(key)
        return
    for table, body in _object(requested).items():
        if isinstance(body, list):  # BatchWriteItem: put and delete requests
            for request in body:
                for operation in _object(request).values():
                    yield _named(table), _key(_first(operation, "key", "Key"))
            continue
        for key in _list(_first(body, "keys", "Keys")):  # BatchGetItem
            yield _named(table), _key(key)


def _query_partition(condition: Any, parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    """The attributes a Query's key condition fixes by equality (its partition)."""
    if not isinstance(condition, str):
        raise _Unreadable
    values = _object(parameters.get("expressionAttributeValues") or {})
    names = _object(parameters.get("expressionAttributeNames") or {})
    fixed: dict[str, Any] = {}
    for term in _AND.split(condition.strip()):
        match = _EQUALS_PLACEHOLDER.fullmatch(term.strip())
        if match is None:
            continue  # a sort key range (begins_with, BETWEEN, <): not an equality
        name, placeholder = match.group(1), match.group(2)
        if name.startswith("#"):
            name = names.get(name)
        if not isinstance(name, str) or placeholder not in values:
            raise _Unreadable
        fixed[name] = values[placeholder]
    if not fixed:
        raise _Unreadable
    return fixed


def _partiql(statement: Any) -> tuple[str, Mapping[str, Any]] | None:
    """(table, key attributes) of a simple PartiQL statement; None for a statement that
    names no item (a SELECT without WHERE reads the whole store: no item is named)."""
    if not isinstance(statement, str) or len(statement) > _STATEMENT_LIMIT:
        raise _Unreadable
    text = statement.strip()
    insert = _INSERT.fullmatch(text)
    if insert:
        return _identifier(insert.group(1)), _insert_value(insert.group(2))
    match = _SELECT.fullmatch(text) or _UPDATE.fullmatch(text) or _DELETE.fullmatch(text)
    if match is None:
        raise _Unreadable
    where = match.group("where")
    if where is None:
        return None
    fixed: dict[str, Any] = {}
    for term in _split_outside_quotes(where):
        found = _EQUALS_LITERAL.fullmatch(term.strip())
        if found is None:
            if _REDACTED_TERM.fullmatch(term.strip()):
                continue  # a non-key attribute (its value is not logged)
            raise _Unreadable
        fixed[_identifier(found.group(1))] = _literal(found.group(2))
    return _identifier(match.group("table")), fixed


def _insert_value(body: str) -> Mapping[str, Any]:
    """The logged (key) attributes of an INSERT's value object."""
    fixed: dict[str, Any] = {}
    inner = body.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise _Unreadable
    for part in _split_outside_quotes(inner[1:-1], separator=","):
        found = _PAIR.fullmatch(part.strip())
        if found is None:
            raise _Unreadable
        if found.group(2).strip() == _REDACTED_MARK:
            continue
        fixed[_literal(found.group(1))] = _literal(found.group(2).strip())
    if not fixed:
        raise _Unreadable
    return fixed


def _split_outside_quotes(text: str, separator: str = "AND") -> list[str]:
    """`text` split on `separator` (AND: the word, any case) outside quoted literals;
    OR, IN, parentheses or NOT anywhere outside quotes make it unreadable."""
    parts: list[str] = []
    current: list[str] = []
    outside = _QUOTED.split(text)
    quoted = _QUOTED.findall(text)
    for index, chunk in enumerate(outside):
        chunk = chunk.replace(_REDACTED, _REDACTED_MARK)
        if separator == "AND":
            if _NOT_SIMPLE.search(chunk):
                raise _Unreadable
            pieces = _AND.split(chunk)
        else:
            pieces = chunk.split(separator)
        current.append(pieces[0])
        for piece in pieces[1:]:
            parts.append("".join(current))
            current = [piece]
        if index < len(quoted):
            current.append(quoted[index])
    parts.append("".join(current))
    return parts


def _literal(text: str) -> Any:
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if _NUMBER.fullmatch(text):
        return text
    raise _Unreadable


def _identifier(text: str) -> str:
    text = text.strip()
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return text[1:-1].replace('""', '"')
    return text


def _attributes(key: Mapping[str, Any]) -> str:
    """ATTR=VALUE pairs sorted by attribute name, percent-encoded, joined by '/'."""
    if not key:
        raise _Unreadable
    return "/".join(
        f"{_quote(str(name))}={_quote(_value_text(key[name]))}" for name in sorted(key, key=str)
    )


def _value_text(value: Any) -> str:
    if isinstance(value, Mapping) and len(value) == 1:
        (kind, inner), *_ = value.items()
        if kind in _TYPED and not isinstance(inner, Mapping | list):
            value = inner
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise _Unreadable  # key attributes are strings, numbers or binary (base64 text)


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe=_SAFE)


def _key(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise _Unreadable
    return value


def _named(table: Any) -> str:
    if not isinstance(table, str) or not table:
        raise _Unreadable
    return table


def _object(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Unreadable
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Unreadable
    return value


def _first(holder: Any, *names: str) -> Any:
    body = _object(holder)
    for name in names:
        if name in body:
            return body[name]
    raise _Unreadable


# DynamoDB takes PartiQL statements of at most 8,192 characters; a longer one is not a
# logged statement, and the patterns below are not run over text of any length.
_STATEMENT_LIMIT = 8192
_REDACTED = "***(Redacted)"
# What stands for _REDACTED while a clause is split (its parentheses are not syntax).
_REDACTED_MARK = "\x00redacted\x00"
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_.\-]*)'
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)
_NOT_SIMPLE = re.compile(r"\b(?:OR|IN|NOT|BETWEEN)\b|[()<>!]", re.IGNORECASE)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_EQUALS_LITERAL = re.compile(rf"({_IDENT})\s*=\s*('(?:[^']|'')*'|{_NUMBER.pattern})", re.DOTALL)
_REDACTED_TERM = re.compile(rf"{_IDENT}\s*=\s*{_REDACTED_MARK}")
_EQUALS_PLACEHOLDER = re.compile(r"(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)")
_PAIR = re.compile(r"('(?:[^']|'')*')\s*:\s*(.+)", re.DOTALL)
_WHERE = r"(?:\s+WHERE\s+(?P<where>.+?))?\s*(?:RETURNING\s.*)?;?"
_SELECT = re.compile(
    rf"SELECT\s.+?\sFROM\s+(?P<table>{_IDENT})(?:\.{_IDENT})?{_WHERE}",
    re.IGNORECASE | re.DOTALL,
)
_UPDATE = re.compile(
    rf"UPDATE\s+(?P<table>{_IDENT})\s.*?(?=\sWHERE\s|$){_WHERE}", re.IGNORECASE | re.DOTALL
)
_DELETE = re.compile(rf"DELETE\s+FROM\s+(?P<table>{_IDENT}){_WHERE}", re.IGNORECASE | re.DOTALL)
_INSERT = re.compile(rf"INSERT\s+INTO\s+({_IDENT})\s+VALUE\s+(.+?);?", re.IGNORECASE | re.DOTALL)
