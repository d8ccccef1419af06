import pytest

from shared.config import ENV_VARS, ConfigError, load_settings


def test_defaults_make_the_local_stack_work_without_any_variable():
    settings = load_settings("planning", environ={})
    assert settings.mongo_db == "planning"
    assert settings.amqp_url.startswith("amqp://")
    assert settings.retry_delays_ms == (1000, 5000, 30000)


def test_environment_values_are_typed():
    settings = load_settings(
        "intake", environ={"MONGO_DB": "clinic_intake", "AMQP_HEARTBEAT_S": "15"}
    )
    assert settings.mongo_db == "clinic_intake"
    assert settings.amqp_heartbeat_s == 15


@pytest.mark.parametrize(
    "variable, value",
    [
        ("AMQP_URL", "http://broker"),
        ("MONGO_URL", "not a url"),
        ("AMQP_HEARTBEAT_S", "often"),
        ("LOG_LEVEL", "CHATTY"),
        ("AMQP_RETRY_DELAYS_MS", "1s,2s"),
        ("SMTP_FROM", "nobody"),
    ],
)
def test_an_invalid_variable_stops_start_up_with_a_message_naming_it(variable, value):
    with pytest.raises(ConfigError, match=variable):
        load_settings("intake", environ={variable: value})


def test_an_unknown_service_is_refused():
    with pytest.raises(ConfigError, match="unknown service"):
        load_settings("billing", environ={})


def test_every_setting_has_one_environment_variable():
    assert len(ENV_VARS) == len(set(ENV_VARS.values()))
    assert all(name.isupper() for name in ENV_VARS)
