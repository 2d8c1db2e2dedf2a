"""One schema-driven codec for every typed message: frozen dataclass <-> canonical CBOR map.

A message class declares its fields with type hints; bounds come from ``field(metadata=...)``:
``max`` (length of bytes/str/list/dict, or largest int), ``min`` (smallest int), ``len`` (exact bytes length).
Supported field types: int, bool, bytes, str, Optional[...], list[T], dict[str, str], enums with int or
str values, and nested dataclasses. Decoding checks every type and bound and raises
``RemoteProtocolError`` on any mismatch; unknown or missing keys are refused too.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
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
    """Turn a message dataclass into a CBOR-ready map (None-valued optional fields are omitted)."""
    hints = _hints(type(msg))
    out: dict[str, Any] = {}
    for f in _fields(type(msg)):
        value = getattr(msg, f.name)
        if value is None:
            continue
        out[f.name] = _encode_value(value, hints[f.name])
    return out


def _encode_value(value: Any, tp: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_obj(value)
    if isinstance(value, list | tuple):
        args = typing.get_args(tp)
        inner = _strip_optional(tp)
        inner_args = typing.get_args(inner) or args
        item_tp = inner_args[0] if inner_args else Any
        return [_encode_value(v, item_tp) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode_value(v, Any) for k, v in value.items()}
    if isinstance(value, bool | int | bytes | str):
        return value
    raise LocalProtocolError(f"cannot encode {type(value).__name__}")


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


def from_obj(cls: type[T], obj: Any) -> T:
    """Build ``cls`` from an untrusted decoded CBOR map, checking every type and bound.

    Raises:
        RemoteProtocolError: wrong shape, type, bound, unknown or missing key.
    """
    if not isinstance(obj, dict):
        raise RemoteProtocolError(f"{cls.__name__}: expected a map")
    hints = _hints(cls)
    fields = _fields(cls)
    names = {f.name for f in fields}
    unknown = set(obj) - names
    if unknown:
        raise RemoteProtocolError(f"{cls.__name__}: unknown field(s) {sorted(unknown)[:3]}")
    kwargs: dict[str, Any] = {}
    for f in fields:
        tp = hints[f.name]
        if f.name not in obj:
            if _is_optional(tp):
                kwargs[f.name] = None
                continue
            if f.default is not dataclasses.MISSING:
                continue
            if f.default_factory is not dataclasses.MISSING:
                continue
            raise RemoteProtocolError(f"{cls.__name__}: missing field {f.name!r}")
        kwargs[f.name] = _decode_value(
            obj[f.name], _strip_optional(tp), f.metadata, f"{cls.__name__}.{f.name}"
        )
    try:
        return cls(**kwargs)
    except RemoteProtocolError:
        raise
    except (ValueError, TypeError, LocalProtocolError) as exc:  # __post_init__ validation of remote values
        raise RemoteProtocolError(f"{cls.__name__}: {exc}") from None


def _decode_value(value: Any, tp: Any, meta: typing.Mapping[str, Any], where: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is bool:
        if not isinstance(value, bool):
            raise RemoteProtocolError(f"{where}: expected bool")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RemoteProtocolError(f"{where}: expected int")
        lo, hi = meta.get("min", _INT_MIN), meta.get("max", _INT_MAX)
        if not lo <= value <= hi:
            raise RemoteProtocolError(f"{where}: {value} outside [{lo}, {hi}]")
        return value
    if tp is bytes:
        if not isinstance(value, bytes):
            raise RemoteProtocolError(f"{where}: expected bytes")
        _check_len(len(value), meta, _DEFAULT_MAX_BYTES, where)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise RemoteProtocolError(f"{where}: expected text")
        _check_len(len(value), meta, _DEFAULT_MAX_STR, where)
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise RemoteProtocolError(f"{where}: unknown {tp.__name__} {value!r}") from None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_obj(tp, value)
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise RemoteProtocolError(f"{where}: expected array")
        _check_len(len(value), meta, _DEFAULT_MAX_LIST, where)
        item_tp = typing.get_args(tp)[0]
        item_meta = meta.get("item", {})
        items = [_decode_value(v, item_tp, item_meta, where) for v in value]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise RemoteProtocolError(f"{where}: expected map")
        _check_len(len(value), meta, _DEFAULT_MAX_LIST, where)
        key_max = meta.get("key_max", _DEFAULT_MAX_STR)
        val_max = meta.get("value_max", _DEFAULT_MAX_STR)
        for k, v in value.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise RemoteProtocolError(f"{where}: expected text -> text")
            if len(k) > key_max or len(v) > val_max or not k:
                raise RemoteProtocolError(f"{where}: attribute too long or empty")
        return dict(value)
    raise LocalProtocolError(f"{where}: unsupported field type {tp!r}")  # pragma: no cover


def _check_len(n: int, meta: typing.Mapping[str, Any], default_max: int, where: str) -> None:
    if "len" in meta and n != meta["len"]:
        raise RemoteProtocolError(f"{where}: length {n} != {meta['len']}")
    if n > meta.get("max", default_max):
        raise RemoteProtocolError(f"{where}: length {n} over {meta.get('max', default_max)}")
