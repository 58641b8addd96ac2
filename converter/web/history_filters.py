"""The history's filter form: what the GET query string may say, checked, as HistoryFilters."""

from django import forms

from converter.models import Job, Team
from converter.selectors import HistoryFilters


class HistoryFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=255, label="File name",
                        widget=forms.SearchInput(attrs={"placeholder": "Search file names"}))
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Job.Status.choices])
    member = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Started by")
    engine = forms.ChoiceField(required=False, choices=[("", "Any engine"), *Team.Engine.choices])
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, members):
        super().__init__(data)
        self.fields["member"].choices = [("", "Anyone")] + [
            (membership.user_id, membership.user.get_username()) for membership in members
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> HistoryFilters:
        """The valid filters; an invalid one is ignored (and shown with its error)."""
        if not self.is_bound:
            return HistoryFilters()
        self.is_valid()
        values = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        values["q"] = (values.get("q") or "").strip()
        return HistoryFilters(**{name: value for name, value in values.items() if value not in (None, "")})

    @property
    def active(self) -> bool:
        return self.filters() != HistoryFilters()
