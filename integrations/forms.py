from crispy_forms.helper import FormHelper
from django import forms

from .models import System


class SystemForm(forms.ModelForm):
    class Meta:
        model = System
        fields = ["name", "kind", "environment", "owner", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.queryset = owner.queryset.filter(is_active=True).order_by("username")
        owner.empty_label = "Nobody yet"
        self.helper = FormHelper()
        self.helper.form_tag = False
