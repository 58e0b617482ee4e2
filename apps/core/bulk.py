"""Fast PostgreSQL upserts: COPY rows into a temporary table, then one INSERT ... ON CONFLICT.

``bulk_create(update_conflicts=True)`` spends most of its time compiling SQL and quoting hundreds
of thousands of parameters in Python (about 20 s for the 20k DR24 TCEs on this machine); COPY
streams the same rows in well under a second.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction

#: Django field class -> the PostgreSQL type psycopg uses to write it in COPY.
_COPY_TYPES = {
    "CharField": "text",
    "TextField": "text",
    "FloatField": "float8",
    "IntegerField": "int8",
    "PositiveIntegerField": "int8",
    "BigIntegerField": "int8",
    "ForeignKey": "int8",
    "BooleanField": "bool",
    "DateTimeField": "timestamptz",
    "JSONField": "jsonb",
    "ArrayField": "text[]",
}


def copy_upsert(
    *,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[object]],
    conflict: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str] = ("id",),
) -> list[tuple]:
    """Insert or update ``rows`` (values in the order of ``fields``) in one statement.

    Parameters
    ----------
    model : Model class
        Target table.
    fields : sequence of str
        Model field names given for every row (every NOT NULL column other than the primary key
        must be among them: Django defaults such as ``auto_now`` are not applied here).
    rows : iterable of sequences
        One value per field; JSON fields take dicts, array fields lists, foreign keys ids.
        No two rows may share a ``conflict`` key.
    conflict : sequence of str
        Field names of the unique constraint that identifies a row.
    update : sequence of str
        Fields overwritten when the row exists.
    returning : sequence of str
        Fields returned for every row; an extra last value says whether the row was inserted.

    Returns
    -------
    list of tuple
        ``(*returning, inserted)`` per row, in no particular order.
    """
    meta = model._meta
    columns = [meta.get_field(name).column for name in fields]
    types = [_COPY_TYPES[meta.get_field(name).get_internal_type()] for name in fields]
    conflict_columns = ", ".join(meta.get_field(name).column for name in conflict)
    updates = ", ".join(
        f'"{meta.get_field(n).column}" = EXCLUDED."{meta.get_field(n).column}"' for n in update
    )
    returned = ", ".join(f'"{meta.get_field(n).column}"' for n in returning)
    column_list = ", ".join(f'"{c}"' for c in columns)
    temp = f"tmp_upsert_{uuid.uuid4().hex[:12]}"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TEMP TABLE "{temp}" ON COMMIT DROP AS SELECT {column_list} FROM "{meta.db_table}" WITH NO DATA'
        )
        with cursor.cursor.copy(f'COPY "{temp}" ({column_list}) FROM STDIN') as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f'INSERT INTO "{meta.db_table}" ({column_list}) SELECT {column_list} FROM "{temp}" '
            f"ON CONFLICT ({conflict_columns}) DO UPDATE SET {updates} RETURNING {returned}, (xmax = 0)"
        )
        result = cursor.fetchall()
        cursor.execute(f'DROP TABLE "{temp}"')
    return result
