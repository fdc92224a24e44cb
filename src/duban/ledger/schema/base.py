"""What every table shares: the declarative ``Base`` with its naming convention, and the column
types the tables reuse (``ID`` keys; JSON and UTC datetimes through ``type_annotation_map``).

A table module imports ``Base`` (and ``ID``) from here and is imported by the package's
``__init__``, so ``Base.metadata`` holds every table once ``duban.ledger.schema`` is imported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

from duban.ledger.types import JSONValue, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # SQLAlchemy reads this class attribute once, at mapping time; nothing mutates it.
    type_annotation_map = {  # noqa: RUF012
        dict[str, Any]: JSONValue,
        list[Any]: JSONValue,
        datetime: UTCDateTime,
    }
