"""One schema-driven codec for every typed message: frozen dataclass <-> canonical CBOR map.

A message class declares its fields with type hints; bounds come from ``field(metadata=...)``:
``max`` (length of bytes/str/list/dict, or largest int), ``min`` (smallest int), ``len`` (exact bytes length).
Supported field types: int, bool, bytes, str, Optional[...], list[T], dict[str, str], enums with int or
str values, and nested dataclasses. Decoding checks every type and bound and raises
``RemoteProtocolError`` on any mismatch; unknown or missing keys are refused too. A field whose value
is None is omitted, and only an Optional field may be: every other field is always present, so each
message has exactly one encoding. Encoding applies the same checks and raises ``LocalProtocolError``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar, Union

from wire.errors import LocalProtocolError, RemoteProtocolError

T = TypeVar("T")

_DEFAULT_MAX_STR = 256
_DEFAULT_MAX_BYTES = 256
_DEFAULT_MAX_LIST = 64
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1


def bounded(
    *,
    max: int | None = None,
    min: int | None = None,
    len: int | None = None,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """A dataclass field with bounds for the codec (``max``, ``min``, exact ``len``).

    Extra bounds (``item``, ``key_max``, ``value_max``) go in ``metadata``.
    """
    meta = dict(metadata or {})
    meta.update({k: v for k, v in (("max", max), ("min", min), ("len", len)) if v is not None})
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(metadata=meta, default_factory=default_factory)
    return dataclasses.field(metadata=meta, default=default)


@typing.dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, bounded))
def message(cls: type[T]) -> type[T]:
    """Declare a protocol message/value class: a frozen dataclass the codec can (de)serialise."""
    return dataclasses.dataclass(frozen=True)(cls)


_HINTS: dict[type, dict[str, Any]] = {}
_FIELDS: dict[type, tuple[dataclasses.Field[Any], ...]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = dataclasses.fields(cls)  # type: ignore[arg-type]
    return fields


def to_obj(msg: Any) -> dict[str, Any]:
    """Turn a message dataclass into a CBOR-ready map (None-valued optional fields are omitted).

    The map is checked with the very rules the decoder applies, so that we never send what a
    peer must refuse.

    Args:
        msg: a message dataclass instance.

    Returns:
        A map of field name to CBOR-ready value.

    Raises:
        LocalProtocolError: a field has the wrong type or is out of its bounds.
    """
    if not dataclasses.is_dataclass(msg) or isinstance(msg, type):
        raise LocalProtocolError(f"not a message dataclass: {type(msg).__name__}")
    out = _to_obj(msg)
    try:
        from_obj(type(msg), out)
    except RemoteProtocolError as exc:
        raise LocalProtocolError(f"invalid message: {exc}") from None
    return out


def _to_obj(msg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, _optional, _decode in _plan(type(msg)):
        value = getattr(msg, name)
        if value is not None:
            out[name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    """The CBOR-ready form of a field value; ``to_obj`` then checks it with the decoder's rules."""
    kind = type(value)
    if kind is str or kind is int or kind is bytes or kind is bool:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _to_obj(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value  # anything of a wrong type is refused by the check


def _strip_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_optional(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    return origin in (Union, types.UnionType) and type(None) in typing.get_args(tp)


_Decoder = Callable[[Any], Any]
#: class -> ((field name, is Optional, decoder of the field's value), ...), built once per class.
_PLANS: dict[type, tuple[tuple[str, bool, _Decoder], ...]] = {}
_NAMES: dict[type, frozenset[str]] = {}


def _plan(cls: type) -> tuple[tuple[str, bool, _Decoder], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        if not dataclasses.is_dataclass(cls):
            raise LocalProtocolError(f"not a message dataclass: {cls.__name__}")
        hints = _hints(cls)
        plan = tuple(
            (
                f.name,
                _is_optional(hints[f.name]),
                _compile(_strip_optional(hints[f.name]), f.metadata, f"{cls.__name__}.{f.name}"),
            )
            for f in _fields(cls)
        )
        _NAMES[cls] = frozenset(name for name, _, _ in plan)
        _PLANS[cls] = plan
    return plan


def from_obj(cls: type[T], obj: Any) -> T:
    """Build ``cls`` from an untrusted decoded CBOR map, checking every type and bound.

    Args:
        cls: the message dataclass.
        obj: the decoded CBOR value (should be a map of field name to value).

    Returns:
        The typed message.

    Raises:
        RemoteProtocolError: wrong shape, type, bound, unknown or missing key.
    """
    if not isinstance(obj, dict):
        raise RemoteProtocolError(f"{cls.__name__}: expected a map")
    plan = _plan(cls)
    if not _NAMES[cls].issuperset(obj):
        unknown = sorted(str(k) for k in set(obj) - _NAMES[cls])
        raise RemoteProtocolError(f"{cls.__name__}: unknown field(s) {unknown[:3]}")
    kwargs: dict[str, Any] = {}
    for name, optional, decode in plan:
        if name in obj:
            kwargs[name] = decode(obj[name])
        elif optional:
            kwargs[name] = None
        else:
            # The canonical encoding carries every field that is not None, defaults included: a
            # missing one is refused, so that every accepted map re-encodes to the same bytes.
            raise RemoteProtocolError(f"{cls.__name__}: missing field {name!r}")
    try:
        return cls(**kwargs)
    except RemoteProtocolError:
        raise
    except (ValueError, TypeError, LocalProtocolError) as exc:  # __post_init__ validation of remote values
        raise RemoteProtocolError(f"{cls.__name__}: {exc}") from None


def _compile(tp: Any, meta: typing.Mapping[str, Any], where: str) -> _Decoder:
    """A function that checks one untrusted value against ``tp`` and ``meta`` and returns it typed.

    Types are compared exactly (``type(v) is int``): a decoded CBOR value is never a subclass, and
    ``True`` must not pass for ``1``.
    """
    origin = typing.get_origin(tp)
    if tp is bool:

        def decode_bool(value: Any) -> Any:
            if value is True or value is False:
                return value
            raise RemoteProtocolError(f"{where}: expected bool")

        return decode_bool
    if tp is int:
        lo, hi = meta.get("min", _INT_MIN), meta.get("max", _INT_MAX)

        def decode_int(value: Any) -> Any:
            if type(value) is not int:
                raise RemoteProtocolError(f"{where}: expected int")
            if not lo <= value <= hi:
                raise RemoteProtocolError(f"{where}: {value} outside [{lo}, {hi}]")
            return value

        return decode_int
    if tp is bytes or tp is str:
        exact = meta.get("len")
        most = meta.get("max", _DEFAULT_MAX_BYTES if tp is bytes else _DEFAULT_MAX_STR)
        kind = "bytes" if tp is bytes else "text"

        def decode_string(value: Any) -> Any:
            if type(value) is not tp:
                raise RemoteProtocolError(f"{where}: expected {kind}")
            n = len(value)
            if exact is not None and n != exact:
                raise RemoteProtocolError(f"{where}: length {n} != {exact}")
            if n > most:
                raise RemoteProtocolError(f"{where}: length {n} over {most}")
            return value

        return decode_string
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        members = {m.value: m for m in tp}
        value_type = int if issubclass(tp, int) else str

        def decode_enum(value: Any) -> Any:
            # The wire value must have the enum's own value type: ``true`` is not the int 1.
            member = members.get(value) if type(value) is value_type else None
            if member is None:
                raise RemoteProtocolError(f"{where}: unknown {tp.__name__} {value!r}"[:200])
            return member

        return decode_enum
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return lambda value: from_obj(tp, value)
    if origin in (list, tuple):
        item = _compile(typing.get_args(tp)[0], meta.get("item", {}), where)
        most = meta.get("max", _DEFAULT_MAX_LIST)

        def decode_list(value: Any) -> Any:
            if type(value) is not list:
                raise RemoteProtocolError(f"{where}: expected array")
            if len(value) > most:
                raise RemoteProtocolError(f"{where}: length {len(value)} over {most}")
            items = [item(v) for v in value]
            return items if origin is list else tuple(items)

        return decode_list
    if origin is dict:
        most = meta.get("max", _DEFAULT_MAX_LIST)
        key_max = meta.get("key_max", _DEFAULT_MAX_STR)
        val_max = meta.get("value_max", _DEFAULT_MAX_STR)

        def decode_dict(value: Any) -> Any:
            if type(value) is not dict:
                raise RemoteProtocolError(f"{where}: expected map")
            if len(value) > most:
                raise RemoteProtocolError(f"{where}: length {len(value)} over {most}")
            for k, v in value.items():
                if type(k) is not str or type(v) is not str:
                    raise RemoteProtocolError(f"{where}: expected text -> text")
                if len(k) > key_max or len(v) > val_max or not k:
                    raise RemoteProtocolError(f"{where}: attribute too long or empty")
            return dict(value)

        return decode_dict
    raise LocalProtocolError(f"{where}: unsupported field type {tp!r}")
