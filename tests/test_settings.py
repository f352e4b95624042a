from pathlib import Path

import pytest

from kikimimi.errors import ConfigError
from kikimimi.settings import EXAMPLE_CONFIG, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_the_demo_brand():
    settings = load_settings(EXAMPLE_CONFIG)
    assert settings.brands[0].name == "Komorebi Tea"
    assert settings.sources == ["sample"]
    assert settings.live_posting is False
    assert "komorebi_tea" in settings.brand_handles["x"]
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("kikimimi.sqlite3")


def test_missing_explicit_config_file_names_the_path(tmp_path):
    with pytest.raises(ConfigError, match="config file not found: .*nope.toml"):
        load_settings(tmp_path / "nope.toml")


def test_malformed_toml_is_one_line_naming_the_file(tmp_path):
    path = write(tmp_path / "k.toml", "sources = [\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value) and "malformed TOML" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("poll_interval_seconds = 1", "poll_interval_seconds"),
        ("sources = ['twitter']", "sources.0"),
        ("colour = 'blue'", "colour"),
        ("[[brands]]\nhandles = {}", "brands.0.name"),
        ("[[brands]]\nname='A'\n[[brands.queries]]\nname='q'\n[[brands.queries]]\nname='q'", "brands.0.queries"),
    ],
)
def test_bad_setting_is_named(tmp_path, text, names):
    path = write(tmp_path / "k.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert f"setting '{names}'" in str(info.value)
    assert "\n" not in str(info.value)


def test_environment_wins_over_the_file(tmp_path, monkeypatch):
    path = write(tmp_path / "k.toml", "poll_interval_seconds = 60")
    monkeypatch.setenv("KIKIMIMI_POLL_INTERVAL_SECONDS", "120")
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", "sqlite:///elsewhere.db")
    settings = load_settings(path)
    assert settings.poll_interval_seconds == 120
    assert settings.database_url == "sqlite:///elsewhere.db"


def test_config_found_in_the_working_directory(tmp_path):
    write(tmp_path / "kikimimi.toml", "poll_interval_seconds = 30")
    assert load_settings().poll_interval_seconds == 30


def test_query_key_changes_with_the_definition_not_the_name():
    settings = load_settings(EXAMPLE_CONFIG)
    query = settings.brands[0].queries[0]
    assert query.model_copy(update={"name": "renamed"}).key == query.key
    assert query.model_copy(update={"keywords": ["other"]}).key != query.key
