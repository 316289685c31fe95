"""Settings: what each mode needs, and failing fast with directions when something is missing."""

from __future__ import annotations

import pytest

from bot.slack.config import SettingsError, load_settings

BOT = "xoxb-1-2-secretbotvalue"
APP = "xapp-1-A1-secretappvalue"


def test_http_mode_without_signing_secret_says_where_to_find_it():
    """HTTP mode without SLACK_SIGNING_SECRET fails with the place in Slack's settings to copy it from."""
    with pytest.raises(SettingsError) as err:
        load_settings(http=True, env={"SLACK_BOT_TOKEN": BOT})
    message = str(err.value)
    assert "SLACK_SIGNING_SECRET is not set" in message
    assert "Basic Information → App Credentials → Signing Secret" in message


def test_socket_mode_without_app_token_points_at_app_level_tokens_or_http():
    """Socket Mode without SLACK_APP_TOKEN names the app-level token page and the --http alternative."""
    with pytest.raises(SettingsError) as err:
        load_settings(socket_mode=True, env={"SLACK_BOT_TOKEN": BOT})
    assert "App-Level Tokens" in str(err.value)
    assert "--http" in str(err.value)


def test_missing_bot_token_fails_first_and_names_oauth_page():
    """Without SLACK_BOT_TOKEN nothing starts, and the message says it is under OAuth & Permissions."""
    with pytest.raises(SettingsError, match="OAuth & Permissions"):
        load_settings(http=True, env={"SLACK_SIGNING_SECRET": "s"})


def test_a_token_of_the_wrong_kind_is_refused():
    """A user token pasted as the bot token is refused before any request is made."""
    with pytest.raises(SettingsError, match="xoxb-"):
        load_settings(http=True, env={"SLACK_BOT_TOKEN": "xoxp-user", "SLACK_SIGNING_SECRET": "s"})


def test_settings_are_read_and_secrets_stay_out_of_repr():
    """All settings are read from the environment; repr() shows none of the secret values."""
    settings = load_settings(socket_mode=True, env={
        "SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP, "SLACK_SIGNING_SECRET": "signsecretvalue",
        "DATABASE_URL": "postgresql://u:dbpassword@h/db", "SLACK_API_URL": "http://127.0.0.1:9/api",
        "PORT": "8080",
    })
    assert (settings.bot_token, settings.app_token, settings.port) == (BOT, APP, 8080)
    assert settings.api_url == "http://127.0.0.1:9/api/"
    text = repr(settings)
    for secret in ("secretbotvalue", "secretappvalue", "signsecretvalue", "dbpassword"):
        assert secret not in text


def test_dotenv_file_is_read_but_exported_values_win(tmp_path, monkeypatch):
    """A .env in the working directory fills in settings; a value already exported takes precedence."""
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN={BOT}\nSLACK_SIGNING_SECRET=from-file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "from-shell")
    settings = load_settings(http=True)
    assert settings.bot_token == BOT
    assert settings.signing_secret == "from-shell"


def test_serve_without_settings_exits_with_the_message(tmp_path, monkeypatch, capsys):
    """`gauntlet serve --http` with nothing configured exits 2 with the directions, not a traceback."""
    from bot.terminal.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--http"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN is not set" in err
