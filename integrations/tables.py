import django_tables2 as tables

from .models import System


class SystemTable(tables.Table):
    name = tables.Column(linkify=True)
    owner = tables.Column(default="—")
    updated = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Last changed")

    class Meta:
        model = System
        fields = ("name", "kind", "environment", "owner", "updated")
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No systems match."
