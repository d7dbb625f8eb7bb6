from pathlib import Path

import pytest
from pydantic import ValidationError

from azera.config import PROJECT_ROOT, Settings


def test_defaults_are_embedded_and_local(data_dir: Path) -> None:
    settings = Settings()
    assert settings.data_dir == data_dir
    assert settings.resolved_database_url == f"sqlite:///{data_dir / 'azera.db'}"
    assert settings.resolved_personas_dir == data_dir / "personas"
    assert settings.resolved_models_dir == data_dir / "models"
    assert (settings.qdrant_url, settings.meili_url, settings.redis_url, settings.ollama_host) == ("", "", "", "")
    assert settings.host == "127.0.0.1"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZERA_DATABASE_URL", "postgresql+psycopg://u@db/azera")
    monkeypatch.setenv("AZERA_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("AZERA_MODELS_DIR", "mymodels")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@db/azera"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.resolved_models_dir == PROJECT_ROOT / "mymodels"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AZERA_OLLAMA_HOST=http://127.0.0.1:11434\nAZERA_FRONTEND_PORT=3100\n")
    settings = Settings()
    assert settings.ollama_host == "http://127.0.0.1:11434"
    assert settings.frontend_port == 3100


def test_listening_beyond_localhost_needs_explicit_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZERA_HOST", "0.0.0.0")
    with pytest.raises(ValidationError, match="AZERA_ALLOW_REMOTE"):
        Settings()
    monkeypatch.setenv("AZERA_ALLOW_REMOTE", "true")
    assert Settings().host == "0.0.0.0"


@pytest.mark.parametrize(("name", "value"), [("AZERA_LOG_LEVEL", "loud"), ("AZERA_FRONTEND_PORT", "70000")])
def test_bad_values_are_refused_with_the_setting_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as error:
        Settings()
    assert name.removeprefix("AZERA_").lower() in str(error.value)


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:3000"), ("0.0.0.0", "http://127.0.0.1:3000"), ("::1", "http://[::1]:3000")],
)
def test_local_url_is_where_this_machine_reaches_the_app(monkeypatch: pytest.MonkeyPatch, host: str, url: str) -> None:
    from azera.config import Settings

    monkeypatch.setenv("AZERA_HOST", host)
    monkeypatch.setenv("AZERA_ALLOW_REMOTE", "true")
    assert Settings().local_url == url
