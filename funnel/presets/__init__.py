"""Import presets: known CRM exports and public data sets, turned into the canonical tables.

Users have CRM exports, not our CSV contract. One module per source shape builds the four
canonical tables from its files (:mod:`.olist`, :mod:`.maven_crm`, :mod:`.x_education`,
:mod:`.hubspot_contacts`, :mod:`.salesforce`; the shared pieces in :mod:`.base`, the names in
:mod:`.registry`); :mod:`.importer` validates and stores them through :func:`funnel.ingest.import_files`.
Beside them: :mod:`.scoring_seed` (rules that fit the imported data), :mod:`.saved` (mappings the
assistant saved as TOML), :mod:`.dry_run`, :mod:`.assistant` (the column-mapping assistant's
guesses and previews). Locale dates live in :mod:`funnel.dates`, the "what this data cannot show"
checks in :mod:`funnel.limitations`.

Options (``import_preset(..., options={...})``):

* ``date_format`` — how to read dates that are not ISO 8601 (``YYYY-MM-DD``): ``"auto"``
  (default: day-first when a day above 12 appears first or the separator is a dot, month-first
  when it appears second; ambiguous data is refused with a message), ``"day-first"``
  (31/12/2025, 31.12.2025 14:05), ``"month-first"`` (12/31/2025 2:05 PM) or a strptime format
  such as ``"%d.%m.%Y %H:%M"``. HubSpot and Salesforce presets.
* ``decimal`` — ``"."`` (default: 1,234.50) or ``","`` (1.234,50) for amounts. Salesforce.
* ``stage_map`` — ``{"Your stage name": "Configured stage"}`` for custom Salesforce stages.

Every name callers used from the former single module is re-exported here (``presets.import_preset``,
``presets.data_limitations``, …).
"""
from __future__ import annotations

from ..dates import (DATE_ORDERS, clean_amounts, detect_date_order, order_from_option, parse_dates,
                     suggest_timestamp_format)
from ..limitations import (NOTES_KEY, PAGE_TOPICS, TOPICS, clear_data_notes, data_limitations, data_notes,
                           limitation_findings, limitations, notes_for_page, page_limitations)
from .assistant import (FIELD_HELP, STAGE_SYNONYMS, apply_column_mapping, assistant_frame, build_mapping,
                        column_samples, configured_stage_names, distinct_values, guess_columns, guess_stage_map,
                        parse_stage_lines, problems_frame)
from .base import (LEAD_ROLES, OPP_ROLES, ROLES, SHARED_DATASETS, TABLE_LABELS, Built, FileRole, Note, Preset,
                   role_stage)
from .detect import CANONICAL, Detection, detect, detect_folder, import_detected, recognise
from .dry_run import DryRun, dry_run
from .importer import import_preset
from .maven_crm import MAVEN_STAGES
from .registry import ALIASES, PRESETS, default_directory, find_preset_files, preset_notes, resolve_name, source_label
from .salesforce import SALESFORCE_STAGES
from .saved import (load_saved_mapping, mapping_to_toml, mappings_dir, preset_names, save_mapping,
                    saved_mappings)
from .scoring_seed import (SCORING_SEED_KEY, preset_scoring_rules, restore_default_scoring, scoring_is_untouched,
                           seed_scoring)

__all__ = [
    "PRESETS", "Preset", "FileRole", "Note", "Built", "import_preset", "preset_notes", "preset_names",
    "find_preset_files", "default_directory", "source_label", "data_limitations", "limitations",
    "page_limitations", "limitation_findings", "notes_for_page", "PAGE_TOPICS", "TOPICS", "data_notes",
    "clear_data_notes", "NOTES_KEY", "dry_run", "DryRun", "parse_dates", "detect_date_order", "order_from_option",
    "suggest_timestamp_format", "clean_amounts", "DATE_ORDERS", "guess_columns", "guess_stage_map",
    "build_mapping", "mapping_to_toml", "save_mapping", "saved_mappings", "load_saved_mapping", "mappings_dir",
    "problems_frame", "apply_column_mapping", "distinct_values", "assistant_frame", "column_samples",
    "configured_stage_names", "parse_stage_lines", "FIELD_HELP", "STAGE_SYNONYMS", "seed_scoring",
    "restore_default_scoring", "scoring_is_untouched", "preset_scoring_rules", "SCORING_SEED_KEY",
    "TABLE_LABELS", "SALESFORCE_STAGES", "MAVEN_STAGES", "LEAD_ROLES", "OPP_ROLES", "ROLES", "role_stage",
    "SHARED_DATASETS", "ALIASES", "resolve_name", "CANONICAL", "Detection", "detect", "detect_folder", "import_detected",
    "recognise",
]
