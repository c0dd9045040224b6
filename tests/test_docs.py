"""docs/ says what the code does: the generated documents are current."""

import re

import pytest

from incidents import docs, export


@pytest.mark.parametrize("name", ["data-model.md", "csv.md"])
def test_each_committed_document_is_what_write_docs_makes(name):
    committed = (docs.DOCS / name).read_text(encoding="utf-8")
    assert committed == docs.documents()[name], f"docs/{name} is stale: run `python manage.py write_docs`"


def test_the_csv_document_lists_the_exports_columns_in_order():
    text = (docs.DOCS / "csv.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE)
    assert tuple(listed) == export.COLUMNS


def test_no_staff_only_field_is_called_public():
    rows = re.findall(
        r"^\| `([a-z_]+)` \|.*\| (\w[\w ]*) \|$", docs.documents()["data-model.md"], re.MULTILINE
    )
    shown = dict(rows)
    assert {shown[name] for name in ("internal_notes", "docket_number", "reporter_contact")} == {"staff only"}
