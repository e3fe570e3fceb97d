"""Meeting material made without Streamlit: PPTX (`reports.pptx`), PDF (`reports.pdf`), XLSX (`reports.xlsx`).

Every format renders the one `analysis.meeting.MeetingBrief`; labels come from
the string table (``i18n/strings/meeting.py``) in the language asked for; maps
and charts are drawn on the machine (`reports.maps`), with no network.
`build_report` picks the format from a file suffix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from geo.dataset import Dataset
from geo.errors import AnalysisError

if TYPE_CHECKING:  # the brief's type only: importing analysis.meeting brings scipy to every page
    from analysis.meeting import MeetingBrief

FORMATS: tuple[str, ...] = ("pptx", "pdf", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def format_of(path: str | Path) -> str:
    """``pptx``, ``pdf`` or ``xlsx`` from a file name; `AnalysisError` (``report.format_unknown``) otherwise."""
    suffix = Path(path).suffix.lower()
    fmt = suffix.lstrip(".")
    if fmt not in FORMATS:
        raise AnalysisError(f"cannot write a report as {suffix or 'a file without a suffix'!r}: "
                            "the output file must end in .pptx, .pdf or .xlsx",
                            code="report.format_unknown", params={"suffix": suffix or str(path)})
    return fmt


def build_report(ds: Dataset, brief: MeetingBrief, fmt: str, *, lang: str = "zh", mask_personal: bool = True) -> bytes:
    """The meeting material in format ``fmt`` (``pptx``, ``pdf``, ``xlsx``), as bytes.

    ``mask_personal`` (default True) hides the middle digits of reporters' phones in the
    overdue list (the only personal data the material carries, in the XLSX), whatever the
    brief holds; only a role allowed to see them should pass False.
    """
    if fmt == "pptx":
        from reports.pptx import build_pptx

        return build_pptx(ds, brief, lang=lang)
    if fmt == "pdf":
        from reports.pdf import build_pdf

        return build_pdf(ds, brief, lang=lang)
    if fmt == "xlsx":
        from reports.xlsx import build_xlsx

        return build_xlsx(brief, lang=lang, mask_personal=mask_personal)
    raise AnalysisError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}",
                        code="report.format_unknown", params={"suffix": f".{fmt}"})
