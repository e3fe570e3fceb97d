"""Labels built from several strings, shared by ``ui/``, ``reports/`` and the CLI (below all of them).

`demand_label`: what a coverage, siting or equity figure counts — 60岁以上老人 / 80岁以上老人, with the plan year
when there is one (2030年80岁以上老人, "Aged 80+ in 2030"). The coverage, siting and meeting pages, and the
meeting's PPTX, PDF and XLSX, label their figures with it, so a plan year reads the same everywhere.
"""

from __future__ import annotations

from i18n import t


def demand_label(year: int | None = None, weight: str = "elderly", *, lang: str | None = None) -> str:
    """The people counted: ``weight`` (``elderly`` aged 60+, ``elderly_80`` aged 80+), in ``year`` when given."""
    who = t(f"planning.weight.{weight}", lang=lang)
    return who if year is None else t("planning.who_in_year", lang=lang, who=who, year=year)
