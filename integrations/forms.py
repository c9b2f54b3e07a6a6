"""Forms for systems, connectors and flows.

A connector's settings and credentials fields are not declared here: they are
built from its adapter's ``settings_schema`` and ``credentials_schema`` (DRF
serializers), and those schemas judge the values, so a page shows the same
field-level errors as the API. Credentials are password inputs that are never
filled in; a blank one keeps the stored value.
"""

import json
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.db.models import Q
from django.urls import reverse_lazy
from rest_framework import fields as drf
from rest_framework import serializers

from . import services
from .adapters import registry
from .engine import mapping
from .models import Connector, Flow, System

SETTING, CREDENTIAL = "setting__", "credential__"


class SystemForm(forms.ModelForm):
    class Meta:
        model = System
        fields = ["name", "kind", "environment", "owner", "locale", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.queryset = owner.queryset.filter(is_active=True).order_by("username")
        owner.empty_label = "Nobody yet"
        self.helper = FormHelper()
        self.helper.form_tag = False


class PrettyJSONField(forms.JSONField):
    """JSON in a monospace textarea, indented for people to read and edit."""

    def __init__(self, *args, rows: int = 6, **kwargs):
        kwargs.setdefault(
            "widget", forms.Textarea(attrs={"rows": rows, "class": "font-monospace", "spellcheck": "false"})
        )
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, str):
            return value  # what the person typed, even when it is not valid JSON
        return json.dumps(value, indent=2, ensure_ascii=False)


def label_for(name: str, field: drf.Field) -> str:
    return str(field.label) if field.label else name.replace("_", " ").capitalize()


def form_field_for(name: str, field: drf.Field, *, secret: bool = False) -> forms.Field:
    """The Django form field that edits one field of an adapter schema."""
    common = {"label": label_for(name, field), "help_text": field.help_text or "", "required": field.required}
    if secret:
        textarea = field.style.get("base_template") == "textarea.html"
        widget = forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}) if textarea else forms.PasswordInput()
        widget.attrs["autocomplete"] = "new-password" if not textarea else "off"
        return forms.CharField(widget=widget, strip=False, **{**common, "required": False})
    if isinstance(field, drf.BooleanField):
        return forms.BooleanField(**{**common, "required": False})
    if isinstance(field, drf.ChoiceField) and not isinstance(field, drf.MultipleChoiceField):
        choices = list(field.choices.items())
        if not field.required and field.default is drf.empty:
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, **common)
    if isinstance(field, drf.IntegerField):
        return forms.IntegerField(**common)
    if isinstance(field, drf.FloatField):
        return forms.FloatField(**common)
    if isinstance(field, drf.DecimalField):
        return forms.DecimalField(**common)
    if isinstance(field, drf.CharField):
        if field.style.get("base_template") == "textarea.html":
            common["widget"] = forms.Textarea(attrs={"rows": 3})
        return forms.CharField(strip=False, **common)
    # DictField, ListField, JSONField, nested serializers: edited as JSON.
    return PrettyJSONField(**common)


def schema_fields(schema) -> dict[str, drf.Field]:
    return dict(schema().fields) if schema is not None else {}


def initial_for(field: drf.Field, stored: dict, name: str):
    if name in stored:
        return stored[name]
    return None if field.default is drf.empty else field.get_default()


class ConnectorForm(forms.ModelForm):
    """Name, system and adapter, then the adapter's own settings and credentials fields."""

    adapter = forms.ChoiceField(
        label="Adapter",
        help_text="Changing it shows that adapter's settings.",
        widget=forms.Select(
            attrs={
                "hx-get": reverse_lazy("integrations:connector_adapter_fields"),
                "hx-trigger": "change",
                "hx-target": "#adapter-fields",
                "hx-swap": "innerHTML",
                "hx-include": "[name=connector]",
            }
        ),
    )

    class Meta:
        model = Connector
        fields = ["name", "system", "adapter", "enabled"]

    def __init__(self, *args, user=None, adapter: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["adapter"].choices = registry.choices()
        system = self.fields["system"]
        system.queryset = System.objects.restrict(user, "view").order_by("name")
        chosen = adapter or self.data.get("adapter") or self.instance.adapter or self.fields["adapter"].choices[0][0]
        self.adapter_key = chosen if chosen in dict(registry.choices()) else self.fields["adapter"].choices[0][0]
        self.initial["adapter"] = self.adapter_key
        self.add_adapter_fields()
        self.helper = FormHelper()
        self.helper.form_tag = False

    @property
    def adapter_class(self):
        return registry.get(self.adapter_key)

    @property
    def adapter_label(self) -> str:
        return self.adapter_class.label  # templates would call the class itself

    def add_adapter_fields(self) -> None:
        same_adapter = self.instance.pk and self.instance.adapter == self.adapter_key
        stored = self.instance.settings if same_adapter else {}
        for name, field in schema_fields(self.adapter_class.settings_schema).items():
            self.fields[SETTING + name] = form_field_for(name, field)
            self.fields[SETTING + name].wide = isinstance(self.fields[SETTING + name].widget, forms.Textarea)
            self.initial[SETTING + name] = initial_for(field, stored, name)
        keep = " Leave blank to keep the current value." if self.instance.has_credentials else ""
        for name, field in schema_fields(self.adapter_class.credentials_schema).items():
            form_field = form_field_for(name, field, secret=True)
            form_field.help_text = f"{form_field.help_text}{keep}".strip()
            self.fields[CREDENTIAL + name] = form_field

    def main_fields(self):
        return [self[name] for name in self.Meta.fields]

    def settings_fields(self):
        return [self[name] for name in self.fields if name.startswith(SETTING)]

    def credential_fields(self):
        return [self[name] for name in self.fields if name.startswith(CREDENTIAL)]

    def _values(self, prefix: str) -> dict[str, Any]:
        values = {}
        for name in self.fields:
            if name.startswith(prefix) and name in self.cleaned_data:
                value = self.cleaned_data[name]
                if value is not None and value != "":
                    values[name.removeprefix(prefix)] = value
        return values

    def clean(self):
        cleaned = super().clean()
        if self.errors.get("adapter"):
            return cleaned
        self.settings_data = self._values(SETTING)
        instance = self.instance if self.instance.pk else None
        self.credentials_data, self.credentials_changed = services.merged_credentials(
            instance, self.adapter_key, self._values(CREDENTIAL)
        )
        try:
            services.validate_connector_config(self.adapter_key, self.settings_data, self.credentials_data)
        except services.ConfigErrors as exc:
            self.add_schema_errors(SETTING, exc.errors.get("settings", {}))
            self.add_schema_errors(CREDENTIAL, exc.errors.get("credentials", {}))
        return cleaned

    def add_schema_errors(self, prefix: str, errors) -> None:
        if not isinstance(errors, dict):
            self.add_error(None, services.error_messages(errors))
            return
        for key, detail in errors.items():
            name = prefix + key
            if name in self.fields:
                if name not in self.errors:  # the form field said it already (e.g. required)
                    self.add_error(name, services.error_messages(detail))
            else:
                where = "" if key == "non_field_errors" else key
                self.add_error(None, services.error_messages(detail, where))

    def save(self, commit=True):
        connector = super().save(commit=False)
        connector.adapter = self.adapter_key
        connector.settings = self.settings_data
        if commit:
            credentials = self.credentials_data if self.credentials_changed else None
            services.save_connector(connector, self.user, credentials)
        return connector


def json_list_error(exc: serializers.ValidationError, noun: str) -> list[str]:
    """Errors per rule position (from 1), e.g. ``Rule 2 → op: "x" is not a valid choice.``

    DRF reports a list's errors as a list (one entry per item) or, in newer
    versions, as a dict keyed by the bad items' indexes; both read the same.
    """
    detail = exc.detail
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        detail = dict(enumerate(detail))
    if isinstance(detail, dict) and all(isinstance(k, int) for k in detail):
        lines = []
        for index in sorted(detail):
            if detail[index]:
                lines += services.error_messages(detail[index], f"{noun} {index + 1}")
        return lines
    return services.error_messages(detail)


class RuleListField(PrettyJSONField):
    """A JSON list of mapping rules or filters, validated by ``engine.mapping``."""

    def __init__(self, *args, validator, noun: str, **kwargs):
        self.validator, self.noun = validator, noun
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return [] if value in (None, "") else value

    def validate(self, value):
        super().validate(value)
        try:
            self.validator(value)
        except serializers.ValidationError as exc:
            raise forms.ValidationError(json_list_error(exc, self.noun)) from None


def mapping_fields() -> dict[str, RuleListField]:
    return {
        "mapping": RuleListField(
            validator=mapping.validate_rules,
            noun="Rule",
            rows=12,
            help_text='One rule per target field, e.g. {"target": "name", "op": "copy", "from": "company"}. '
            "Empty: records pass unchanged.",
        ),
        "filters": RuleListField(
            validator=mapping.validate_filters,
            noun="Filter",
            rows=4,
            help_text='Only records matching every filter are carried, e.g. {"field": "country", "op": "eq", '
            '"value": "DE"}.',
        ),
        "pilot_filter": RuleListField(
            validator=mapping.validate_filters,
            noun="Filter",
            rows=4,
            label="Pilot filter",
            help_text="In the pilot stage, only records matching these filters are delivered.",
        ),
    }


class FlowForm(forms.ModelForm):
    """A flow's route, trigger, rules and delivery limits. The stage moves by its own buttons."""

    class Meta:
        model = Flow
        fields = [
            "name",
            "entity",
            "source",
            "targets",
            "trigger",
            "schedule_minutes",
            "mapping",
            "filters",
            "pilot_filter",
            "batch_size",
            "max_attempts",
            "retry_base_seconds",
        ]
        widgets = {"targets": forms.SelectMultiple(attrs={"size": 4})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(mapping_fields())
        # Connectors the person may view, and those the flow already uses (so saving never drops them).
        current = (
            [self.instance.source_id, *self.instance.targets.values_list("pk", flat=True)] if self.instance.pk else []
        )
        usable = (Connector.objects.restrict(user, "view") | Connector.objects.filter(pk__in=current)).distinct()
        writable = [key for key, _ in registry.choices() if registry.get(key).can_write]
        self.fields["source"].queryset = usable.order_by("name")
        self.fields["targets"].queryset = usable.filter(Q(adapter__in=writable) | Q(pk__in=current)).order_by("name")
        self.fields["targets"].help_text = "Where the records go. Hold Ctrl (⌘ on a Mac) to choose several."
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        # Trigger and schedule rules live in Flow.clean(), which the form runs after this.
        cleaned = super().clean()
        for field, message in services.route_errors(cleaned.get("source"), cleaned.get("targets") or []).items():
            self.add_error(field, message)
        return cleaned


class FlowMappingForm(forms.ModelForm):
    """The mapping editor: rules, filters and the pilot filter, as JSON validated per rule."""

    class Meta:
        model = Flow
        fields = ["mapping", "filters", "pilot_filter"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(mapping_fields())
        for name in self.Meta.fields:
            self.initial[name] = getattr(self.instance, name) or []


class PreviewForm(forms.Form):
    """A sample record for the mapping preview."""

    sample = forms.JSONField(
        label="Sample record",
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace", "spellcheck": "false"}),
        help_text="One record as the source would send it, as a JSON object.",
    )

    def clean_sample(self):
        sample = self.cleaned_data["sample"]
        if not isinstance(sample, dict):
            raise forms.ValidationError('Give one JSON object, e.g. {"id": "C-1", "name": "Ada"}.')
        return sample


class DiscardForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the records and in the audit trail.",
    )
