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
        self.helper = FormHelper()
        self.helper.form_tag = False
