from django import forms


class LogEntryFilterForm(forms.Form):
    """The audit filter form: a date range that ends before it starts is a field error,
    so the person sees what to fix instead of an unexplained empty table."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
