import pytest

from shared.config import ENV_VARS, ConfigError, every_env_var, load_settings


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
    ],
)
def test_an_invalid_variable_stops_start_up_with_a_message_naming_it(variable, value):
    with pytest.raises(ConfigError, match=variable):
        load_settings("intake", environ={variable: value})


@pytest.mark.parametrize(
    "service, variable, value",
    [
        ("notifications", "SMTP_FROM", "nobody"),
        ("notifications", "SMS_BASE_URL", "sms.example.org"),
        ("intake", "INTAKE_LINK_SECRET", "short"),
    ],
)
def test_an_invalid_variable_of_a_service_section_stops_that_service(service, variable, value):
    with pytest.raises(ConfigError, match=variable):
        load_settings(service, environ={variable: value})


def test_a_service_reads_only_its_own_section_and_the_core():
    assert load_settings("planning", environ={"SMTP_FROM": "nobody"}).own is None
    intake = load_settings("intake", environ={"SMTP_FROM": "nobody"})
    assert intake.own.public_base_url == "http://127.0.0.1:8001"
    assert not hasattr(intake.own, "smtp_from")


def test_overrides_reach_the_core_and_the_section_by_name():
    settings = load_settings(
        "notifications", environ={}, overrides={"smtp_port": 2525, "max_page_size": 7}
    )
    assert (settings.own.smtp_port, settings.max_page_size) == (2525, 7)
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings("planning", environ={}, overrides={"smtp_port": 2525})


def test_an_unknown_service_is_refused():
    with pytest.raises(ConfigError, match="unknown service"):
        load_settings("billing", environ={})


def test_every_setting_has_one_environment_variable():
    assert len(ENV_VARS) == len(set(ENV_VARS.values()))
    every = every_env_var()  # raises if two parts declare one variable
    assert all(name.isupper() for name in every)
    assert {"SMTP_HOST": "notifications", "PUBLIC_BASE_URL": "intake"}.items() <= every.items()
