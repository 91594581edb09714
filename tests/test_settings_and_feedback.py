from pathlib import Path

import pytest

from bot.feedback import FeedbackStore
from bot.settings import ENV_VARS, SettingsError, load_settings
from bot.settings import PROJECT_ROOT


def test_environment_beats_file_and_flags_beat_both(tmp_path):
    file = tmp_path / "ilmasto.toml"
    file.write_text('top_k = 5\nchroma_host = "10.0.0.1"\nallowed_origins = ["https://a.fi", "https://b.fi"]\n', encoding="utf-8")
    settings = load_settings(env={"ILMASTO_SETTINGS_FILE": str(file), "ILMASTO_TOP_K": "6"}, data_dir=tmp_path / "d")
    assert settings.top_k == 6
    assert settings.chroma_host == "10.0.0.1"
    assert settings.allowed_origins == ("https://a.fi", "https://b.fi")
    assert settings.data_dir == tmp_path / "d"


def test_bad_values_name_the_variable():
    with pytest.raises(SettingsError, match="ILMASTO_TOP_K"):
        load_settings(env={"ILMASTO_TOP_K": "kahdeksan"})
    with pytest.raises(SettingsError, match="ILMASTO_SPLIT_COMPOUNDS"):
        load_settings(env={"ILMASTO_SPLIT_COMPOUNDS": "ehkä"})


def test_every_setting_is_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [var for var in ENV_VARS if f"`{var}`" not in readme]
    assert not missing, missing


def test_feedback_is_stored_with_question_answer_and_citations(tmp_path: Path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'palaute.sqlite3'}")
    store.add("down", "Mitä ilmastolaki vaatii?", "Vastaus [1]", [{"n": 1, "doc_id": "a.md"}], "Puuttui pykälä")
    store.add("up", "Mistä rahoitusta?", "Vastaus [1]", [])
    rows = store.all()
    assert [(r["rating"], r["comment"]) for r in rows] == [("down", "Puuttui pykälä"), ("up", "")]
    assert rows[0]["citations"] == [{"n": 1, "doc_id": "a.md"}]
    with pytest.raises(ValueError):
        store.add("meh", "q", "a", [])
