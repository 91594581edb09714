import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import settings as settings_module
from bot.feedback import FeedbackStore
from bot.settings import ENV_VARS, PROJECT_ROOT, Settings, SettingsError, load_settings


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


@pytest.mark.parametrize("env, names", [
    ({"ILMASTO_LLM_PROVIDER": "typo"}, ["ILMASTO_LLM_PROVIDER", "none, openai, ollama"]),
    ({"ILMASTO_ALLOWED_ORIGINS": "*"}, ["ILMASTO_ALLOWED_ORIGINS", "scheme://host[:port]"]),
    ({"ILMASTO_ALLOWED_ORIGINS": "https://a.fi,notanorigin"}, ["ILMASTO_ALLOWED_ORIGINS", "notanorigin"]),
    ({"ILMASTO_ALLOWED_ORIGINS": "https://a.fi/polku"}, ["ILMASTO_ALLOWED_ORIGINS"]),
    ({"CHROMA_PORT": "70000"}, ["CHROMA_PORT", "1–65535"]),
    ({"ILMASTO_MIN_SIMILARITY": "1.5"}, ["ILMASTO_MIN_SIMILARITY", "0.0–1.0"]),
    ({"ILMASTO_RATE_LIMIT_PER_MINUTE": "-1"}, ["ILMASTO_RATE_LIMIT_PER_MINUTE", "≥ 0"]),
    ({"ILMASTO_CHUNK_MIN_WORDS": "400"}, ["ILMASTO_CHUNK_MIN_WORDS", "ILMASTO_CHUNK_MAX_WORDS (300)"]),
    ({"ILMASTO_LLM_BASE_URL": "javascript:alert(1)"}, ["ILMASTO_LLM_BASE_URL", "http(s)"]),
])
def test_every_bad_setting_is_refused_in_finnish_and_english_with_what_is_allowed(env, names):
    with pytest.raises(SettingsError) as info:
        load_settings(env=env)
    message = str(info.value)
    assert "\n" not in message and "Virheellinen asetus" in message and "Invalid setting" in message
    fi, en = message.split(" | ")
    for name in names:
        assert name in fi and name in en


def test_a_file_setting_is_named_with_its_file_and_unknown_keys_are_refused(tmp_path):
    file = tmp_path / "ilmasto.toml"
    file.write_text('top_k = 0\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=f"top_k \\({file}\\).*1–100"):
        load_settings(env={"ILMASTO_SETTINGS_FILE": str(file)})
    file.write_text('top_kk = 5\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="top_kk"):
        load_settings(env={"ILMASTO_SETTINGS_FILE": str(file)})
    with pytest.raises(SettingsError, match="ILMASTO_SETTINGS_FILE"):
        load_settings(env={"ILMASTO_SETTINGS_FILE": str(tmp_path / "puuttuu.toml")})


def test_an_llm_provider_without_the_llm_extra_is_refused(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(settings_module.importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("langchain_") else real_find_spec(name, *a))
    for provider in ("openai", "ollama"):
        with pytest.raises(SettingsError, match=f"ILMASTO_LLM_PROVIDER={provider}.*llm"):
            load_settings(env={"ILMASTO_LLM_PROVIDER": provider})
    assert load_settings(env={}).llm_provider == "none"


def test_origins_are_normalised_and_settings_are_frozen_and_copies_validated():
    settings = load_settings(env={"ILMASTO_ALLOWED_ORIGINS": "https://www.laukaa.fi/, http://127.0.0.1:8000"})
    assert settings.allowed_origins == ("https://www.laukaa.fi", "http://127.0.0.1:8000")
    with pytest.raises(Exception):
        settings.top_k = 3  # type: ignore[misc]
    assert settings.replace(top_k=3).top_k == 3 and settings.top_k == 8
    with pytest.raises(SettingsError, match="ILMASTO_TOP_K"):
        settings.replace(top_k=0)
    assert Settings() == load_settings(env={})  # the defaults are valid and the environment adds nothing unasked


ENTRY_POINTS = {
    "python ui.py": ["ui.py"],
    "python -m bot ask": ["-m", "bot", "ask", "Mitä ilmastolaki vaatii?"],
    "python -m bot search": ["-m", "bot", "search", "ilmastolaki"],
    "python -m ingest": ["-m", "ingest"],
    "ilmasto serve": ["-m", "bot.cli", "serve"],
    "ilmasto ingest": ["-m", "bot.cli", "ingest"],
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_entry_point_stops_at_start_on_a_bad_setting(entry, tmp_path):
    env = {**os.environ, "ILMASTO_LLM_PROVIDER": "typo", "ILMASTO_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, *ENTRY_POINTS[entry]], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "ILMASTO_LLM_PROVIDER" in lines[0] and "none, openai, ollama" in lines[0]
    assert not any(tmp_path.iterdir())  # nothing was started: not even the store was opened


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
