"""Forms of the Access tab: grant a user or group permissions on one object, or revoke them.

They only read the input; ``accounts.access`` decides (and says what is wrong, by field).
"""

from django import forms

from . import access

PERMISSION_CHOICES = [
    ("view", "View"),
    ("change", "Change"),
    ("delete", "Delete"),
]


class PrincipalField(forms.ChoiceField):
    """A user or a group, as ``user:<id>`` / ``group:<id>``; cleans to the User or Group."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "User or group")
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return access.principal_for(value)
        except access.AccessError as exc:
            raise forms.ValidationError(str(exc)) from None

    def valid_value(self, value):
        return True  # principal_for() judges it against the database, not a stale choice list


class AccessGrantForm(forms.Form):
    principal = PrincipalField(help_text="Access granted to a group applies to everyone in it.")
    permissions = forms.MultipleChoiceField(
        choices=PERMISSION_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["view"],
        error_messages={"required": "Choose at least one permission."},
        help_text="Change and delete need view too.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["principal"].choices = [("", "Choose a user or group…"), *access.principal_choices()]


class AccessRevokeForm(forms.Form):
    principal = PrincipalField()
    permissions = forms.MultipleChoiceField(choices=PERMISSION_CHOICES, required=False, help_text="None: all of them.")
