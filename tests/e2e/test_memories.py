"""The Memories page in a real browser: knowledge-base upload, browse, edit, move, delete."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_upload_browse_edit_move_and_delete(page: Page, app_url: str, tmp_path) -> None:
    notes = tmp_path / "orchard.md"
    notes.write_text("# Orchard\n\n" + "The orchard has forty apple trees and two old pear trees. " * 30)
    page.goto(app_url + "/memories")
    page.click("#kb-tab")
    page.locator("input[type=file]").set_input_files(str(notes))
    page.click("#add-documents")
    expect(page.locator(".document-row")).to_contain_text("orchard.md", timeout=30_000)
    expect(page.locator(".document-row")).to_contain_text(re.compile(r"\d+ chunks"))

    page.get_by_role("tab", name="Browse").click()
    page.fill("#memory-search", "pear trees")
    rows = page.locator(".memory-row")
    expect(rows.first).to_contain_text("pear trees")
    expect(rows.first).to_contain_text("document")

    rows.first.locator(".edit-memory").click()
    page.fill("#memory-editor", "The orchard has forty apple trees and one quince tree.")
    page.click("#save-memory")
    page.fill("#memory-search", "quince")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".memory-text")).to_have_text("The orchard has forty apple trees and one quince tree.")

    # The date filter: nothing created before yesterday; clearing it brings the memory back.
    page.fill("#memory-until", f"{date.today() - timedelta(days=1):%Y-%m-%d}")
    expect(rows).to_have_count(0)
    expect(page.locator("#no-memories")).to_be_visible()
    page.fill("#memory-until", "")
    expect(rows).to_have_count(1)

    rows.first.get_by_role("combobox").click()
    page.get_by_role("option", name="archive").click()
    expect(page.get_by_text("Moved to archive")).to_be_visible()

    rows.first.locator(".delete-memory").click()
    page.click("#confirm-delete-memory")
    expect(rows).to_have_count(0)
    expect(page.locator("#no-memories")).to_be_visible()


def test_a_bad_upload_is_refused_with_a_reason(page: Page, app_url: str, tmp_path) -> None:
    fake = tmp_path / "scan.pdf"
    fake.write_bytes(b"this is not really a pdf")
    page.goto(app_url + "/memories")
    page.click("#kb-tab")
    page.locator("input[type=file]").set_input_files(str(fake))
    page.click("#add-documents")
    expect(page.get_by_text("scan.pdf is not a PDF file")).to_be_visible(timeout=30_000)
    expect(page.locator(".document-row", has_text="scan.pdf")).to_have_count(0)
