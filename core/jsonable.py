"""Typed records stored as JSON (plans, outcomes): pydantic does the (de)serialising."""

from __future__ import annotations

from typing import Any, Self

from pydantic import TypeAdapter

_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(cls: type) -> TypeAdapter[Any]:
    if cls not in _ADAPTERS:  # building one is slow; a race only builds it twice
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


class Jsonable:
    """Mixin for a dataclass kept in the state store: ``to_json`` / ``from_json``."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        return dict(_adapter(type(self)).dump_python(self, mode="json"))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        value: Self = _adapter(cls).validate_python(data)
        return value
