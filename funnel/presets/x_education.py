"""X Education's leads (public data set): attributes and a Converted flag, no dates."""
from __future__ import annotations

import pandas as pd

from ..i18n import N_, msg
from .base import Built, Cols, FileRole, Note, Preset, attribute_names, blank_to_none, refuse

X_EDUCATION_DATE = "2018-12-20"   # the date of the upGrad archive: the snapshot has no dates at all
X_EDUCATION_DAY = "20 Dec 2018"


def _normalise_case(s: pd.Series) -> pd.Series:
    """Merge spellings that differ only in case (google → Google) into the most common one."""
    nonblank = s[s != ""]
    counts = nonblank.value_counts()
    best: dict[str, str] = {}
    for v in counts.index:  # most common first
        best.setdefault(v.casefold(), v)
    return s.map(lambda v: best.get(v.casefold(), v) if v else v)


PRESET = Preset(
    name="x_education",
    roles=(FileRole("leads", N_("Leads"), ("Leads.csv", "leads*.csv"),
                    help=N_("Leads.csv: Prospect ID, Lead Number, Lead Origin, Lead Source, …, Converted, …"),
                    signature=(("Prospect ID",), ("Converted",), ("Lead Origin", "Lead Number"))),),
    public_folder="x_education_leads",
)


def build(src: dict, options: dict) -> Built:
    f, df = src["leads"]
    c = Cols(df, f, "leads")
    c_id, c_conv = c.need("Prospect ID", "prospect_id"), c.need("Converted", "converted")
    c_source = c.find("lead_source")
    if c.problems:
        refuse(c.problems)
    lead_id = c.get(c_id)
    channel = _normalise_case(c.get(c_source))
    leads = pd.DataFrame({"lead_id": lead_id, "created_at": X_EDUCATION_DATE, "channel": blank_to_none(channel)})
    rest = [h for h in df.columns if h not in (c_id, c_source)]
    names = attribute_names(rest, set(leads.columns))
    for h in rest:
        v = df[h].astype(str).str.strip()
        leads[names[h]] = blank_to_none(v.where(v != "Select", ""))  # "Select": the dropdown was left untouched
    converted = c.get(c_conv).str.lower().isin(["1", "true", "yes"])
    rows = pd.Series(range(1, len(df) + 1), index=df.index)
    ev = pd.concat([
        pd.DataFrame({"lead_id": lead_id, "stage": "Lead", "entered_at": X_EDUCATION_DATE, "source_row": rows}),
        pd.DataFrame({"lead_id": lead_id[converted], "stage": "Customer", "entered_at": X_EDUCATION_DATE,
                      "source_row": rows[converted]}),
    ]).sort_values("source_row", kind="stable").reset_index(drop=True)
    ev["source_file"] = f
    lq = names.get(c.find("lead_quality") or "", "lead_quality")
    tags = names.get(c.find("tags") or "", "tags")
    # the two attributes by the names this import gave them (data, not words to translate)
    notes = [Note("scoring", msg("'{tags}' and '{lead_quality}' are filled in by the sales team after contact: they "
                                 "leak the outcome and must not be scoring inputs (the suggestion leaves them out).",
                                 tags=tags, lead_quality=lq))]
    return Built(tables={"leads": leads, "lead_events": ev}, names={"leads": f, "lead_events": f},
                 stages={"lead": {"Lead": "Lead", "Customer": "Customer"}}, notes=notes,
                 columns={"leads": {"lead_id": c_id, "channel": c_source}, "lead_events": {"lead_id": c_id}})
