import pytest
from sqlmodel import Session

from azera.db.models import SettingRow
from azera.errors import ServiceError
from azera.services.preferences import PREFERENCES_KEY, load_preferences, update_preferences


def test_defaults_then_saved_changes_persist(session: Session) -> None:
    assert load_preferences(session).send_on_enter is True
    update_preferences(session, send_on_enter=False, theme="light")
    session.flush()
    loaded = load_preferences(session)
    assert (loaded.send_on_enter, loaded.theme, loaded.show_thinking) == (False, "light", True)


def test_bad_values_are_refused_and_nothing_changes(session: Session) -> None:
    with pytest.raises(ServiceError, match="Preference 'font_size'"):
        update_preferences(session, font_size=99)
    with pytest.raises(ServiceError, match="Unknown preference"):
        update_preferences(session, colour="red")
    assert load_preferences(session).font_size == 15


def test_a_corrupt_stored_value_falls_back_to_its_default(session: Session) -> None:
    session.add(SettingRow(key=PREFERENCES_KEY, value={"theme": "neon", "send_on_enter": False}))
    session.flush()
    loaded = load_preferences(session)
    assert (loaded.theme, loaded.send_on_enter) == ("dark", False)
