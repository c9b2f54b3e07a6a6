"""Forms of the stewardship workspace: the per-field merge choice, the CSV import and a survivorship rule."""

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from .choices import Strategy
from .entities import Entity
from .models import GoldenRecord, SourceRecord
from .services.imports import MAX_BYTES, read_header
from .services.rules import validate_rule
from .services.survivorship import surviving_values

LEFT, RIGHT, RULES = "left", "right", "rules"


def is_empty(value) -> bool:
    return value is None or value == ""


def same(a, b) -> bool:
    return (is_empty(a) and is_empty(b)) or a == b


def merge_defaults(survivor: GoldenRecord, absorbed: GoldenRecord) -> dict:
    """The values ``merge(survivor, absorbed)`` gives without any steward choice:
    survivorship over both records' sources, then the survivor's pinned values."""
    sources = list(SourceRecord.objects.filter(golden__in=[survivor, absorbed]))
    values, _lineage = surviving_values(survivor.entity, sources)
    return {**values, **survivor.pinned}


class MergeForm(forms.Form):
    """One radio per differing field: keep the left (surviving) or the right value.

    Each choice defaults to what survivorship rules would give. Only choices
    that differ from those rules become ``chosen`` (pinned by ``merge()``), so
    fields a steward did not override stay governed by the rules. The older
    record (``candidate.left``) survives, as in ``merge_candidates()``.
    """

    def __init__(self, candidate, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidate = candidate
        self.survivor, self.absorbed = candidate.left, candidate.right
        self.defaults = merge_defaults(self.survivor, self.absorbed)
        left, right = self.survivor.values, self.absorbed.values
        for field in self.survivor.schema.fields:
            a, b = left.get(field.name), right.get(field.name)
            if same(a, b):
                continue
            options = {LEFT: a, RIGHT: b}
            default = self.defaults.get(field.name)
            if not (same(default, a) or same(default, b)):
                options[RULES] = default  # e.g. a value pinned on the absorbed record is not kept by the rules
            initial = next(side for side, value in options.items() if same(value, default))
            self.fields[field.name] = forms.ChoiceField(
                label=field.title,
                choices=[(side, side) for side in options],
                initial=initial,
                widget=forms.RadioSelect,
            )
            self.fields[field.name].options = options

    @classmethod
    def with_choices(cls, candidate, choices: dict) -> "MergeForm":
        """Bound to ``choices`` (field -> side) for the fields given and to survivorship's
        default for the rest: how API clients, who name only their overrides, use the form."""
        form = cls(candidate)
        form.data = {name: field.initial for name, field in form.fields.items()} | dict(choices)
        form.is_bound = True
        return form

    def chosen(self) -> dict:
        """field -> value for every choice that overrides survivorship."""
        picked = {name: self.fields[name].options[self.cleaned_data[name]] for name in self.fields}
        return {name: value for name, value in picked.items() if not same(value, self.defaults.get(name))}


class ImportForm(forms.Form):
    system = forms.ModelChoiceField(queryset=None, help_text="The system this file was exported from.")
    entity = forms.ChoiceField(choices=Entity.choices, label="Records of type")
    locale = forms.CharField(
        max_length=20,
        required=False,
        label="Source locale",
        help_text="How the source writes dates, e.g. en_US (03/04 is March 4) or en_GB (3 April). Optional.",
        widget=forms.TextInput(attrs={"list": "locales", "placeholder": "en_US"}),
    )
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, with a header line naming the columns; one column must be “id” (the source's id).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, systems, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = systems
        self.fields["system"].empty_label = "Choose a system"
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.") from exc

    def clean(self):
        cleaned = super().clean()
        content, entity = cleaned.get("file"), cleaned.get("entity")
        if content is not None and entity:
            try:
                read_header(content, entity)
            except ValidationError as exc:
                self.add_error("file", exc)
        return cleaned


INHERIT = "inherit"  # a field's choice: no rule of its own, the entity's default decides


class RankedSystemsWidget(forms.Widget):
    """A numbered select per system ("—", 1, 2, …): the most trusted is 1. No script needed, and
    each select is labelled with its system. The value is ``{system id: rank as sent}``."""

    template_name = "masterdata/includes/ranked_systems.html"

    def __init__(self, systems=(), attrs=None):
        super().__init__(attrs)
        self.systems = list(systems)

    def value_from_datadict(self, data, files, name):
        return {system.pk: data.get(f"{name}_{system.pk}", "") for system in self.systems}

    def value_omitted_from_data(self, data, files, name):
        return not any(f"{name}_{system.pk}" in data for system in self.systems)

    def render(self, name, value, attrs=None, renderer=None):
        if isinstance(value, dict):  # as sent
            ranks = {pk: str(rank) for pk, rank in value.items()}
        else:  # the stored order
            ranks = {int(pk): str(n) for n, pk in enumerate(value or [], start=1)}
        rows = [(system, f"{name}_{system.pk}", ranks.get(system.pk, "")) for system in self.systems]
        numbers = [str(n) for n in range(1, len(self.systems) + 1)]
        return render_to_string(self.template_name, {"name": name, "rows": rows, "numbers": numbers})


class RankedSystemsField(forms.Field):
    """System ids in order of trust, from a rank per system; the same rank twice is an error."""

    def __init__(self, *, systems=(), **kwargs):
        kwargs.setdefault("widget", RankedSystemsWidget(systems))
        super().__init__(**kwargs)

    def to_python(self, value):
        if not isinstance(value, dict):
            return list(value or [])
        ranked = {}
        for pk, raw in value.items():
            if raw in (None, ""):
                continue
            try:
                rank = int(raw)
            except (TypeError, ValueError):
                raise ValidationError("Give each system a number, or “—” to leave it out.") from None
            if rank in ranked:
                raise ValidationError(f"Two systems have the number {rank}: give each its own.")
            ranked[rank] = pk
        return [ranked[rank] for rank in sorted(ranked)]


class SurvivorshipRuleForm(forms.Form):
    """The rule of one field of an entity (``field`` empty: the entity's default).

    A field may also go back to the entity's default (``INHERIT``: its own rule removed).
    Checks are ``services.rules.validate_rule``'s, as for the API, each on its field.
    """

    strategy = forms.ChoiceField(
        label="Which value wins", widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    trusted_systems = RankedSystemsField(label="Trusted systems, most trusted first", required=False)

    def __init__(self, *args, entity: str, field: str, systems, **kwargs):
        super().__init__(*args, **kwargs)
        self.entity, self.field_name = entity, field
        choices = list(Strategy.choices)
        if field:
            choices.insert(0, (INHERIT, "The entity's default rule"))
        self.fields["strategy"].choices = choices
        self.fields["trusted_systems"].widget.systems = list(systems)

    def clean(self):
        cleaned = super().clean()
        strategy = cleaned.get("strategy")
        if strategy in (None, INHERIT) or "trusted_systems" in self.errors:
            return cleaned
        try:
            cleaned["trusted_systems"] = validate_rule(
                self.entity, self.field_name, strategy, cleaned.get("trusted_systems") or []
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return cleaned
