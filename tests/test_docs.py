"""The README documents what the code offers."""

from pathlib import Path

from assistant.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_settings_table():
    missing = [name for name in Settings.model_fields if f"| `ASSISTANT_{name.upper()}` |" not in README]
    assert not missing, f"README's settings table lacks {missing}"
