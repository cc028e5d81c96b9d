"""Maven CRM's sales pipeline (public data set): one row per deal with its current stage."""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from .. import fmt
from ..i18n import N_, list_of, msg, msg_n
from .base import Built, Cols, FileRole, Note, Preset, blank_to_none, problem, refuse

MAVEN_STAGES = {"Prospecting": "Qualify", "Engaging": "Discovery", "Won": "Closed Won", "Lost": "Closed Lost"}


PRESET = Preset(
    name="maven_crm",
    roles=(FileRole("sales_pipeline", N_("Sales pipeline"), ("sales_pipeline*.csv",),
                    help=N_("sales_pipeline.csv: opportunity_id, sales_agent, product, account, deal_stage, "
                         "engage_date, close_date, close_value"),
                    signature=(("opportunity_id",), ("deal_stage",), ("engage_date",), ("sales_agent", "close_value"))),
           FileRole("products", N_("Products"), ("products*.csv",), required=False,
                    help=N_("products.csv: product, series, sales_price"),
                    signature=(("product",), ("sales_price",)), excludes=("opportunity_id",)),
           FileRole("sales_teams", N_("Sales teams"), ("sales_teams*.csv",), required=False,
                    help=N_("sales_teams.csv: sales_agent, manager, regional_office"),
                    signature=(("sales_agent",), ("regional_office",)), excludes=("opportunity_id",))),
    public_folder="maven_crm",
)


def build(src: dict, options: dict) -> Built:
    pf, pipe = src["sales_pipeline"]
    pc = Cols(pipe, pf, "opportunities")
    c_id, c_stage = pc.need("opportunity_id", "opportunity_id"), pc.need("deal_stage", "deal_stage")
    c_agent, c_product, c_account = pc.find("sales_agent"), pc.find("product"), pc.find("account")
    c_engage, c_close, c_value = pc.find("engage_date"), pc.find("close_date"), pc.find("close_value")
    problems = list(pc.problems)
    prices: dict[str, tuple[str, str]] = {}
    notes: list[Note] = []
    if "products" in src:
        f, df = src["products"]
        c = Cols(df, f, "opportunities")
        p_name, p_price = c.need("product", "product"), c.need("sales_price", "sales_price")
        problems += c.problems
        if p_name and p_price:
            for name, price in zip(c.get(p_name), c.get(p_price)):
                prices[re.sub(r"[^0-9a-z]", "", name.lower())] = (name, price)
    offices: dict[str, str] = {}
    if "sales_teams" in src:
        f, df = src["sales_teams"]
        c = Cols(df, f, "opportunities")
        t_agent, t_office = c.need("sales_agent", "sales_agent"), c.need("regional_office", "regional_office")
        problems += c.problems
        if t_agent and t_office:
            offices = dict(zip(c.get(t_agent), c.get(t_office)))
    if problems:
        refuse(problems)

    opp_id, stage = pc.get(c_id), pc.get(c_stage)
    engage, close, value = pc.get(c_engage), pc.get(c_close), pc.get(c_value)
    product_raw = pc.get(c_product)
    key = product_raw.str.lower().str.replace(r"[^0-9a-z]", "", regex=True)
    product = key.map(lambda k: prices.get(k, (None, None))[0]).where(key.isin(list(prices)), product_raw)
    fixed = int(((product != product_raw) & (product_raw != "")).sum())
    list_price = key.map(lambda k: prices.get(k, (None, ""))[1]).fillna("")

    dates = pd.to_datetime(pd.concat([engage, close]).replace("", None), errors="coerce")
    last = dates.max()
    if pd.isna(last):
        refuse([problem(pf, "opportunities", msg("has no engage_date or close_date at all, so no deal can be placed "
                                                 "in time."), column="engage_date", code="missing_value")])
    last_day = last.date()
    placeholder_close = last_day + dt.timedelta(days=30)
    is_open = ~stage.isin(["Won", "Lost"])
    created = engage.where(engage != "", last_day.isoformat())
    close_date = close.where(close != "", placeholder_close.isoformat()).where(~is_open | (close != ""),
                                                                               placeholder_close.isoformat())
    # Revenue is recorded only for won deals (close_value is 0 for every lost one); open and lost
    # deals carry the product's list price as their size, 0 when the product is unknown.
    won_amount = value.where(value != "", list_price)
    size = list_price.where(list_price != "", "0")
    amount = won_amount.where(stage == "Won", size)
    amount = amount.where(amount != "", "0")
    segment = pc.get(c_agent).map(offices).fillna("") if offices else pd.Series([""] * len(pipe), index=pipe.index)
    opportunities = pd.DataFrame({
        "opportunity_id": opp_id, "lead_id": None, "account": blank_to_none(pc.get(c_account)),
        "created_at": created, "amount": amount, "close_date": close_date,
        "owner": blank_to_none(pc.get(c_agent)), "segment": blank_to_none(segment),
        "product": blank_to_none(product), "source_file": pf, "source_row": range(1, len(pipe) + 1),
    })
    rows = pd.Series(range(1, len(pipe) + 1), index=pipe.index)
    ev = []
    engaged = engage != ""
    ev.append(pd.DataFrame({"opportunity_id": opp_id[engaged], "stage": "Engaging", "entered_at": engage[engaged],
                            "amount": size[engaged], "close_date": None, "source_row": rows[engaged],
                            "source_column": c_engage}))
    for name in ("Won", "Lost"):
        sel = (stage == name) & (close != "")
        ev.append(pd.DataFrame({"opportunity_id": opp_id[sel], "stage": name, "entered_at": close[sel],
                                "amount": amount[sel], "close_date": close[sel], "source_row": rows[sel],
                                "source_column": c_close}))
    opp_events = pd.concat(ev).sort_values(["source_row"], kind="stable").reset_index(drop=True)
    opp_events.insert(len(opp_events.columns) - 2, "source_file", pf)
    # Stages other than the four known ones go through as written: the import names them.
    other = sorted(set(stage[~stage.isin(list(MAVEN_STAGES)) & (stage != "")]))
    for name in other:
        sel = stage == name
        opp_events = pd.concat([opp_events, pd.DataFrame({
            "opportunity_id": opp_id[sel], "stage": name, "entered_at": created[sel], "amount": amount[sel],
            "close_date": None, "source_file": pf, "source_row": rows[sel], "source_column": c_stage})],
            ignore_index=True)

    n_open = int(is_open.sum())
    n_prospect = int((stage == "Prospecting").sum())
    # Stage, file, column and product names are the data's own: parameters, not words to translate.
    notes.append(Note("forecast", msg(
        "The source has no created date: a deal's creation is its engage date, and the {n} {stage} deals (no date "
        "at all) are placed on the last day of the data, {last_day}, with no stage event: they count as in the first "
        "stage ({first_stage}).", n=fmt.Count(n_prospect), stage="Prospecting", last_day=fmt.Date(last_day),
        first_stage="Qualify")))
    notes.append(Note("forecast", msg(
        "The {n} open deals have no expected close date in the source: all are given {close_date} (the last date in "
        "the data + 30 days), so the forecast's split by month is not meaningful — only the total open pipeline is.",
        n=fmt.Count(n_open), close_date=fmt.Date(placeholder_close))))
    if prices:
        notes.append(Note("forecast", msg(
            "Revenue exists only for won deals: open and lost deals carry their product's list price as their amount "
            "({file} {column}).", file="products.csv", column="sales_price")))
    else:
        notes.append(Note("forecast", msg(
            "Without {file}, open and lost deals have no amount (0): the weighted forecast only counts deal numbers, "
            "not value.", file="products.csv")))
    if fixed:
        notes.append(Note("source", msg_n(
            "{n} deal names a product spelled differently from {file} (e.g. {spelled}); they were matched to it "
            "({product}).",
            "{n} deals name a product spelled differently from {file} (e.g. {spelled}); they were matched to it "
            "({product}).", fixed, n=fmt.Count(fixed), file="products.csv", spelled="GTXPro", product="GTX Pro")))
    if offices:
        notes.append(Note("filters", msg("An opportunity's segment is its sales agent's regional office ({offices}).",
                                         offices=list_of(("Central", "East", "West")))))
    return Built(tables={"opportunities": opportunities, "opportunity_events": opp_events},
                 names={"opportunities": pf, "opportunity_events": pf},
                 stages={"opportunity": dict(MAVEN_STAGES)}, notes=notes,
                 columns={"opportunities": {"opportunity_id": c_id, "created_at": c_engage, "amount": c_value,
                                            "close_date": c_close, "owner": c_agent, "account": c_account,
                                            "product": c_product},
                          "opportunity_events": {"opportunity_id": c_id, "stage": c_stage, "amount": c_value,
                                                 "close_date": c_close}})
