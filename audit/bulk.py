"""Bulk writes that stay in the audit trail: the rows, and the entries django-auditlog's signals never see.

``bulk_create`` and ``bulk_update`` send no ``post_save``, so auditlog writes
nothing for them. Code that writes in bulk calls these helpers with the same
instances, and gets the entries auditlog would have written one by one: the
same content type, object pk, representation, action and ``changes`` (from
auditlog's own ``model_instance_diff``), the actor and correlation id of
whatever runs now, in one ``INSERT``. Models auditlog does not track (see
``AUDITLOG_EXCLUDE_TRACKING_MODELS``) get no entry, as with ``save()``.

Each entry goes through ``pre_save`` before the insert and ``post_save`` after
it, so whatever fills or seals a LogEntry saved one by one (auditlog's actor
context, the worker's correlation context, the hash chain) fills and seals
these too.

``bulk_insert`` and ``bulk_update`` are the ORM's ``bulk_create`` and
``bulk_update`` made cheap on PostgreSQL, for pages of hundreds of rows with
JSON columns: Django 5.2 sends a bulk insert as UNNEST arrays whose elements
psycopg quotes one by one with a regular expression (every ``"`` of every JSON
value), and a bulk update as one CASE per column and row. Here the rows travel
as one JSON document that ``jsonb_to_recordset`` unpacks on the server (as the
sync engine's outbox does). Other databases take the ORM's path.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import partial
from operator import attrgetter

from auditlog import get_logentry_model
from auditlog.cid import get_cid
from auditlog.context import auditlog_disabled
from auditlog.diff import get_field_value, get_fields_in_model, model_instance_diff
from auditlog.registry import auditlog
from auditlog.signals import post_log, pre_log
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, router
from django.db.models import DateField, DateTimeField, Field, JSONField
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.encoding import smart_str

from config import rowsjson


def log_bulk_create(instances: Iterable, *, actor=None, cid: str | None = None) -> list:
    """Write a CREATE entry for each saved instance (call it after ``bulk_create``)."""
    LogEntry = get_logentry_model()
    return _write([(None, instance) for instance in instances], LogEntry.Action.CREATE, actor, cid)


def log_bulk_update(
    pairs: Iterable[tuple], *, fields: Sequence[str] | Mapping | None = None, actor=None, cid: str | None = None
) -> list:
    """Write an UPDATE entry for each ``(before, after)`` pair whose tracked fields changed.

    ``before`` is a copy of the instance as it was loaded (``copy.copy`` before
    changing it), ``after`` the instance as written by ``bulk_update``;
    ``fields``: the fields it wrote (as ``save(update_fields=...)`` tells
    auditlog), or ``{model: fields}`` when the pairs are of several models.
    """
    LogEntry = get_logentry_model()
    return _write(list(pairs), LogEntry.Action.UPDATE, actor, cid, fields)


def _write(pairs: Sequence[tuple], action: int, actor, cid: str | None, fields=None) -> list:
    if _disabled() or not pairs:
        return []
    LogEntry = get_logentry_model()
    cid = cid or get_cid()
    json_changes = settings.AUDITLOG_STORE_JSON_CHANGES
    drafts = []  # (entry, instance, before, changes, pre_log results)
    differs, makers = {}, {}  # model -> its diff function, its entry builder
    for before, after in pairs:
        model = type(after)
        if not auditlog.contains(model):
            continue
        vetoes = pre_log.send(model, instance=after, action=action)
        if any(result is False for _, result in vetoes):
            continue
        if model not in differs:
            written = fields.get(model) if isinstance(fields, Mapping) else fields
            differs[model] = _differ(after, before is None, json_changes, written)
            makers[model] = _entry_maker(LogEntry, model, action, actor, cid)
        changes = differs[model](before, after)
        if not changes:
            continue  # auditlog skips an empty change too
        drafts.append((makers[model](after, changes), after, before, changes, vetoes))
    if not drafts:
        return []
    using = router.db_for_write(LogEntry)
    for entry, *_ in drafts:
        pre_save.send(LogEntry, instance=entry, raw=False, using=using, update_fields=None)
    entries = bulk_insert([entry for entry, *_ in drafts])
    for entry, after, before, changes, vetoes in drafts:
        post_save.send(LogEntry, instance=entry, created=True, raw=False, using=using, update_fields=None)
        post_log.send(
            type(after),
            instance=after,
            instance_old=before,
            action=action,
            error=None,
            pre_log_results=vetoes,
            changes=changes,
            log_entry=entry,
            log_created=True,
            use_json_for_changes=json_changes,
        )
    return entries


def _differ(sample, creating: bool, json_changes: bool, fields_to_check=None):
    """``model_instance_diff`` for instances of ``sample``'s model. For creates without masked fields,
    the same result cheaper: auditlog picks the fields and reads the "before" side (always its
    text for a missing value, as there is no old instance) per call; here once per model."""
    tracked = auditlog.get_model_fields(type(sample))
    if not creating or json_changes or tracked["mask_fields"]:
        return lambda before, after: model_instance_diff(
            before, after, fields_to_check=fields_to_check, use_json_for_changes=json_changes
        )
    # The field selection of model_instance_diff(None, new), in its order.
    fields = set(get_fields_in_model(sample))
    if tracked["include_fields"]:
        fields = [f for f in fields if f.name in tracked["include_fields"]]
    if tracked["exclude_fields"]:
        fields = [f for f in fields if f.name not in tracked["exclude_fields"]]
    missing = [(f.name, _reader(f), old, smart_str(old)) for f in fields for old in [get_field_value(None, f)]]

    def created(_before, after) -> dict | None:
        diff = {}
        for name, read, old, old_text in missing:
            new = read(after)
            if old != new:
                diff[name] = (old_text, new if type(new) is str else smart_str(new))
        return diff or None

    return created


def _reader(field):
    """``get_field_value(obj, field)`` for one field, with its type checks done once: the
    create entries of a page of records read thousands of values."""
    if isinstance(field, JSONField):  # a JSONField's to_python returns the value unchanged
        name, encode = field.attname, (field.encoder or json.JSONEncoder)(sort_keys=True).encode

        def read_json(obj):
            value = getattr(obj, name)
            try:
                return encode(value)  # json.dumps(value, sort_keys=True, cls=encoder), one encoder per field
            except TypeError:
                return value

        return read_json
    if isinstance(field, DateTimeField):  # to_python keeps a datetime as it is; auditlog compares naive UTC
        name = field.attname

        def read_datetime(obj):
            value = getattr(obj, name)
            if type(value) is not datetime:
                return get_field_value(obj, field)  # text, a date, None: auditlog's conversions
            return timezone.make_naive(value, UTC) if settings.USE_TZ and not timezone.is_naive(value) else value

        return read_datetime
    is_key = (field.one_to_one or field.many_to_one) and hasattr(field, "rel_class")
    if is_key and not settings.AUDITLOG_USE_FK_STRING_REPRESENTATION:
        attname = field.get_attname()
        return lambda obj: smart_str(getattr(obj, attname), strings_only=True)
    if is_key or field.is_relation:
        return lambda obj: get_field_value(obj, field)  # conversions or lookups: auditlog's own path
    name = field.name

    def read_plain(obj):
        value = smart_str(getattr(obj, name))
        return str(value) if type(value).__name__ == "__proxy__" else value

    return read_plain


def _entry_maker(LogEntry, model, action: int, actor, cid: str | None):
    """A function building, for an instance of ``model`` and its changes, the LogEntry auditlog's
    ``log_create`` would build. What every entry of the model shares (content type, whether data
    is serialized, the actor) is looked up once, and the entry is made from positional values,
    Django's fast path for rows read from the database: a page writes thousands of entries."""
    content_type = ContentType.objects.get_for_model(model)
    serialize = auditlog.get_serialize_options(model)["serialize_data"]
    additional = callable(getattr(model, "get_additional_data", None))
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    fields = LogEntry._meta.concrete_fields
    at = {field.attname: i for i, field in enumerate(fields)}
    given = {"content_type_id": content_type.pk, "action": action, "cid": cid}
    if authenticated:
        given |= {"actor_id": actor.pk, "actor_email": getattr(actor, "email", None)}
    # The other fields' defaults: one with a default of its own (the timestamp's "now") per entry.
    template = [given.get(field.attname, field.get_default()) for field in fields]
    fresh = [(i, field) for i, field in enumerate(fields) if field.has_default() and field.attname not in given]
    object_pk, object_id, object_repr = at["object_pk"], at["object_id"], at["object_repr"]
    serialized_data, changes_at, additional_data = at["serialized_data"], at["changes"], at["additional_data"]
    content_type_field, actor_field = LogEntry._meta.get_field("content_type"), LogEntry._meta.get_field("actor")

    def make(instance, changes: dict):
        values = template.copy()
        for i, field in fresh:
            values[i] = field.get_default()
        pk = instance.pk
        values[object_pk], values[object_id] = smart_str(pk), pk if isinstance(pk, int) else None
        values[object_repr], values[changes_at] = smart_str(instance), changes
        if serialize:
            values[serialized_data] = LogEntry.objects._get_serialized_data_or_none(instance)
        if additional:
            values[additional_data] = instance.get_additional_data()
        entry = LogEntry(*values)
        content_type_field.set_cached_value(entry, content_type)  # entry.content_type without a query
        if authenticated:
            actor_field.set_cached_value(entry, actor)
        return entry

    return make


def _disabled() -> bool:
    try:
        return auditlog_disabled.get()
    except LookupError:
        return False


# --- the rows ------------------------------------------------------------------------------------


def bulk_insert(objs: list) -> list:
    """``bulk_create`` of instances of one model; each gets its primary key (from the table's
    sequence on PostgreSQL) and its ``auto_now``/``auto_now_add`` values, as with the ORM.
    The instances either all have a primary key or none has."""
    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs)
    pk = model._meta.pk
    numbered = objs[0].pk is not None
    if any((obj.pk is not None) != numbered for obj in objs):
        raise ValueError("bulk_insert: give every instance a primary key, or none")
    fields = [f for f in model._meta.concrete_fields if numbered or f is not pk]
    columns = _columns(fields)
    rows = [{column: plain(field, get(obj)) for column, field, get, plain in columns} for obj in objs]
    template = "INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS r({shape})"
    if numbered:
        _execute_rows(template, model, fields, rows)
        ids = [o.pk for o in objs]
    else:
        ids = sorted(_execute_rows(f"{template} RETURNING {_quote(pk.column)}", model, fields, rows, returning=True))
    # The rows are inserted in the document's order, each taking the sequence's next value: the
    # returned ids sorted are the objects' ids in order, whatever order RETURNING lists them in.
    for obj, new_id in zip(objs, ids, strict=True):
        obj.pk = new_id
        obj._state.adding, obj._state.db = False, connection.alias
    return objs


def bulk_insert_rows(model, rows: list[dict]) -> None:
    """Insert plain ``{field attname: value}`` rows of a model the audit trail does not track
    (an index, say), without building an instance per row."""
    if auditlog.contains(model):
        raise ValueError(f"{model.__name__} is in the audit trail: insert instances and log them")
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows])
        return
    fields = [model._meta.get_field(name) for name in rows[0]]
    plain = [{f.column: _plain(f, row[f.attname]) for f in fields} for row in rows]
    template = "INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS r({shape})"
    _execute_rows(template, model, fields, plain)


def bulk_update(objs: list, names: list[str]) -> None:
    """``bulk_update(objs, names)`` of instances of one model (values as set on the instances)."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, names)
        return
    pk = model._meta.pk
    fields = [pk, *(model._meta.get_field(name) for name in names)]
    rows = [{f.column: _plain(f, getattr(obj, f.attname)) for f in fields} for obj in objs]
    assignments = ", ".join(f"{_quote(f.column)} = r.{_quote(f.column)}" for f in fields[1:])
    key = _quote(pk.column)
    template = f"UPDATE {{table}} AS t SET {assignments} FROM jsonb_to_recordset(%s::jsonb) AS r({{shape}})"  # noqa: S608 - the model's names
    _execute_rows(
        f"{template} WHERE t.{key} = r.{key}",
        model,
        fields,
        rows,
    )


def reserve_ids(model, count: int) -> list[int]:
    """``count`` primary keys for rows of ``model`` this transaction will insert, in increasing order.

    PostgreSQL hands them out of the table's sequence. SQLite has none, but a
    writing transaction holds the database's only write lock (``BEGIN
    IMMEDIATE``) until its rows are in, so ids past the highest ever used are free.
    """
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return sorted(row[0] for row in cursor.fetchall())
        highest = f"SELECT max({_quote(column)}) FROM {_quote(table)}"  # noqa: S608 - the model's names
        sql = f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), coalesce(({highest}), 0))"  # noqa: S608
        cursor.execute(sql, [table])
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def _execute_rows(template: str, model, fields, rows: list[dict], *, returning: bool = False) -> list:
    columns = ", ".join(_quote(f.column) for f in fields)
    shape = ", ".join(f"{_quote(f.column)} {f.db_type(connection)}" for f in fields)
    sql = template.format(table=_quote(model._meta.db_table), columns=columns, shape=shape)
    with rowsjson.cursor() as cursor:
        cursor.execute(sql, [rowsjson.dumps(rows)])
        # Only a RETURNING statement is waited for: inside pipelined() the others are not.
        return [row[0] for row in cursor.fetchall()] if returning else []


@contextmanager
def pipelined():
    """Statements sent to PostgreSQL without waiting for each one's result (psycopg's pipeline
    mode), so the server writes rows while this process builds the next statement (a page's
    audit entries, say). A statement whose result is read (``RETURNING``) waits for everything
    sent before it; an error surfaces at the latest when the block ends. Other databases run
    the block as it is."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    # An error found when the block ends is raised as Django's, like one from a cursor.
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def _columns(fields) -> list[tuple]:
    """Per field: its column, how an insert reads its value (``pre_save``; a plain attribute read
    where the field does not override it) and turns it into JSON (``_plain``, or nothing for JSON
    columns): the type checks once per field, not once per value of a page of rows."""
    columns = []
    for f in fields:
        get = attrgetter(f.attname) if type(f).pre_save is Field.pre_save else partial(_pre_save, f)
        columns.append((f.column, f, get, _as_is if isinstance(f, JSONField) else _plain))
    return columns


def _pre_save(field, obj):
    return field.pre_save(obj, True)  # auto_now and auto_now_add set the instance's value too


def _as_is(_field, value):
    return value


def _plain(field, value):
    """A column's value as JSON for ``jsonb_to_recordset`` (JSON columns stay nested documents)."""
    if value is None or isinstance(field, JSONField):
        return value
    if type(value) in (str, int, float, bool) and not isinstance(field, DateField):  # already what the column takes
        return value
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()  # bytea's text form
    value = field.get_db_prep_save(value, connection)
    if isinstance(value, datetime | date):
        return value.isoformat()  # full precision: DjangoJSONEncoder would cut microseconds
    return value


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
