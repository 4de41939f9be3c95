from django import forms

from logs.selectors import LEVELS
from syncer.refs import AsciiIntegerField


class LogFilterForm(forms.Form):
    """The filters of the log page, read from the query string (also by the live tail)."""

    level = forms.ChoiceField(
        required=False,
        label="Level",
        choices=[("", "All levels")] + [(level, f"{level} and above") for level in LEVELS],
    )
    run = AsciiIntegerField(required=False, min_value=1, label="Run #")

    def filters(self) -> dict:
        """Keyword arguments for the log selectors; invalid input means "no filter"."""
        if not self.is_valid():
            return {"level": "", "run_id": None}
        return {"level": self.cleaned_data["level"] or "", "run_id": self.cleaned_data["run"]}
