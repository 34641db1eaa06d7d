"""docs/report-schema.md is generated from the report models; it cannot drift from them.

Regenerate with: mcpcheck schema --format markdown > docs/report-schema.md
"""

import json
import re
from pathlib import Path

from mcpcheck.report.json_report import DOC_MODELS, FIELD_NOTES, render_schema_doc
from mcpcheck.report.model import RunReport

DOC = Path(__file__).resolve().parent.parent / "docs" / "report-schema.md"
REGEN = "regenerate it: mcpcheck schema --format markdown > docs/report-schema.md"


def test_the_docs_json_block_is_the_current_schema():
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```json\n(.*?)^```$", text, flags=re.S | re.M)
    assert len(blocks) == 1, "docs/report-schema.md must hold exactly one fenced json block"
    assert json.loads(blocks[0]) == RunReport.model_json_schema(), f"the schema changed; {REGEN}"


def test_the_whole_doc_is_what_the_generator_writes():
    assert DOC.read_text(encoding="utf-8") == render_schema_doc(), f"docs/report-schema.md is stale; {REGEN}"


def test_every_field_is_described():
    missing = [
        f"{m.__name__}.{name}"
        for m in DOC_MODELS
        for name, field in m.model_fields.items()
        if not (field.description or FIELD_NOTES.get(f"{m.__name__}.{name}"))
    ]
    assert not missing, f"add a description (in the model or FIELD_NOTES) for: {missing}"
