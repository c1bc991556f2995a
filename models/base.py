"""Shared column types and the clock. Every timestamp is stored as UTC and read back aware."""

from __future__ import annotations

import functools
import inspect
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import JSON, DateTime, LargeBinary, Text, func, insert, select
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field


def _factory(fn: Callable[[], Any]) -> Callable[[], Any]:
    """A column's default factory, with its signature worked out once. Pydantic asks for the signature of
    a field's default factory each time a table model is built (to see whether it takes the validated
    data), and `inspect.signature` of a builtin such as `list` is slow: building a Ticket took 171 µs with
    `list` as a factory and 68 µs with this. A precomputed `__signature__` is what `inspect.signature` returns first."""
    fn.__signature__ = inspect.signature(fn)
    return fn


@_factory
def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@_factory
def _empty_list() -> list:
    return []


@_factory
def _empty_dict() -> dict:
    return {}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def when(*, nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    """A UTC timestamp column."""
    kwargs: dict[str, Any] = {"default_factory": utcnow} if default_now else {"default": None}
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable and not default_now, index=index), **kwargs)


def json_list() -> Any:
    return Field(default_factory=_empty_list, sa_column=Column(JSON, nullable=False))


def json_dict() -> Any:
    return Field(default_factory=_empty_dict, sa_column=Column(JSON, nullable=False))


def long_text(nullable: bool = True) -> Any:
    return Field(default=None if nullable else "", sa_column=Column(Text, nullable=nullable))


def blob() -> Any:
    return Field(default=None, sa_column=Column(LargeBinary, nullable=True))


async def insert_all(session, model, rows: list[dict], with_id: Callable[[int], dict] | None = None) -> list:
    """Insert `rows` (column values by field name; a field left out gets its default) and return them as
    `model` objects of the session, in order, ids and all. The same rows as `add_all` and a flush would
    write, without building each object through pydantic and the unit of work. `with_id(id)` gives the
    values that follow from a row's id (a ticket's reference), so that no UPDATE has to follow.

    The ids are taken first (`_reserve_ids`) and written with the rows: SQLAlchemy cannot otherwise tell
    which new id belongs to which row on SQLite, and falls back to one INSERT per row (six per new request,
    about a third of recording a batch). Mapper events (`before_insert`) do not run: not for models that
    have them."""
    if not rows:
        return []
    defaults = _defaults(model)
    unknown = set().union(*rows) - defaults.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    ids = await _reserve_ids(session, model, len(rows))
    values = [{"id": id_, **{name: (row[name] if name in row else default()) for name, default in defaults.items()},
               **(with_id(id_) if with_id else {})} for id_, row in zip(ids, rows)]
    inserted = {obj.id: obj for obj in await session.scalars(insert(model).returning(model), values)}
    return [inserted[id_] for id_ in ids]


async def _reserve_ids(session, model, count: int) -> list[int]:
    """`count` new primary keys of `model`'s table. PostgreSQL takes them from the table's sequence; SQLite
    has none, but every write transaction here holds the database's write lock from its BEGIN IMMEDIATE
    (`models.db`), so the ids above the largest one are this transaction's until it ends, as SQLite itself
    would have assigned them."""
    table = model.__table__
    if (await session.connection()).dialect.name == "postgresql":
        query = select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(func.generate_series(1, count))
        return sorted((await session.execute(query)).scalars())
    largest = (await session.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar_one()
    return list(range(largest + 1, largest + 1 + count))


def _required(model, name: str) -> Callable[[], Any]:
    def missing() -> Any:
        raise TypeError(f"{model.__name__}.{name} has no default: give it in every row")
    return missing


@functools.cache
def _defaults(model) -> dict[str, Callable[[], Any]]:
    """Each column field of `model` but the primary key, with what gives its default."""
    defaults = {}
    for name, info in model.model_fields.items():
        if name == "id":
            continue
        if info.default_factory is not None:
            defaults[name] = info.default_factory
        elif info.is_required():
            defaults[name] = _required(model, name)
        else:
            defaults[name] = lambda value=info.default: value
    return defaults
