"""The README documents what the code offers."""

from pathlib import Path

from assistant.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_settings_table():
    missing = [name for name in Settings.model_fields if f"| `ASSISTANT_{name.upper()}` |" not in README]
    assert not missing, f"README's settings table lacks {missing}"


def test_the_readme_settings_table_is_the_one_generated_from_settings():
    import re

    from assistant.config import settings_table

    match = re.search(r"<!-- settings-table:[^\n]*-->\n(.*?)<!-- end settings-table -->", README, re.S)
    assert match, "README.md lacks the settings-table markers"
    assert match.group(1) == settings_table(), (
        "README's settings table and the Settings fields disagree: run scripts/settings_table.py"
    )


def test_the_settings_table_changes_with_a_fields_description(monkeypatch):
    from assistant.config import Settings, settings_table

    monkeypatch.setattr(Settings.model_fields["top_k"], "description", "how many citations")
    assert "| `ASSISTANT_TOP_K` | `5` | how many citations |" in settings_table()
