"""Every setting of the base Config follows its HELPDESK_* environment variable, parsed to the
setting's type, in a fresh process (config.py reads the environment once, at import); the few that
do not are listed in config.NOT_FROM_ENVIRONMENT with the reason, and docs/deploy.md names every
variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import config

ROOT = Path(__file__).resolve().parent.parent

# older names kept because deployments set them (docs/deploy.md)
ENV_NAMES = {
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
    "BABEL_DEFAULT_LOCALE": "DEFAULT_LOCALE",
    "BABEL_DEFAULT_TIMEZONE": "DEFAULT_TIMEZONE",
    "TWO_FACTOR_REQUIRED_ROLES": "2FA_REQUIRED_ROLES",
    "TWO_FACTOR_PENDING_MINUTES": "2FA_PENDING_MINUTES",
}
# the type of settings whose default is None
TYPES_OF_NONE = {"SECRET_KEY": "str", "SMTP_USER": "str", "SMTP_PASSWORD": "str"}
TYPES_OF_NONE["WTF_CSRF_TIME_LIMIT"] = "int"

READ = """
import json
from config import Config
values = {n: getattr(Config, n) for n in dir(Config) if n.isupper()}
print(json.dumps({n: [type(v).__name__, sorted(v) if isinstance(v, set) else v]
                  for n, v in values.items()}))
"""


def _settings(tmp_path, env: dict) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    clean["HELPDESK_INSTANCE_PATH"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", READ],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def env_name(name: str) -> str:
    return "HELPDESK_" + ENV_NAMES.get(name, name)


def _other_value(name: str, kind: str, default):
    """(the variable's text, the setting it must give): a value of the type, unlike the default."""
    if kind == "NoneType":
        kind = TYPES_OF_NONE[name]
    if kind == "bool":
        return ("0", False) if default else ("1", True)
    if kind == "int":
        return str((default or 0) + 7), (default or 0) + 7
    if kind in ("list", "set"):
        return " alpha, beta ,,", ["alpha", "beta"]
    assert kind == "str", f"{name}: a {kind} setting (add how to read it from the environment)"
    return f"from-env-{name.lower()}", f"from-env-{name.lower()}"


def test_every_setting_follows_its_environment_variable(tmp_path):
    defaults = _settings(tmp_path, {})
    names = set(defaults) - set(config.NOT_FROM_ENVIRONMENT)
    assert set(config.NOT_FROM_ENVIRONMENT) <= set(defaults)  # no stale exception
    env, expected = {}, {}
    for name in names:
        kind, default = defaults[name]
        text, value = _other_value(name, kind, default)
        env[env_name(name)] = text
        expected[name] = value
    changed = _settings(tmp_path, env)
    wrong = {
        name: (env[env_name(name)], changed[name], expected[name])
        for name in names
        if changed[name][1] != expected[name]
        or (defaults[name][0] != "NoneType" and changed[name][0] != defaults[name][0])
    }
    assert not wrong  # name: (the variable, [type, value] read, the value expected)
    # the exceptions stay as they are
    for name in config.NOT_FROM_ENVIRONMENT:
        assert changed[name] == defaults[name]


def test_optional_numbers_can_be_unset_and_bad_values_are_named(tmp_path):
    values = _settings(tmp_path, {"HELPDESK_WTF_CSRF_TIME_LIMIT": "3600"})
    assert values["WTF_CSRF_TIME_LIMIT"] == ["int", 3600]
    assert (
        _settings(tmp_path, {"HELPDESK_WTF_CSRF_TIME_LIMIT": ""})["WTF_CSRF_TIME_LIMIT"][1] is None
    )
    for variable, text in [
        ("HELPDESK_SMTP_PORT", "twenty-five"),
        ("HELPDESK_SMTP_STARTTLS", "sure"),
    ]:
        with pytest.raises(subprocess.CalledProcessError) as failed:
            _settings(tmp_path, {variable: text})
        assert variable in failed.value.stderr


def test_the_deploy_guide_names_every_variable():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    names = {n for n in dir(config.Config) if n.isupper()} - set(config.NOT_FROM_ENVIRONMENT)
    missing = sorted(env_name(n) for n in names if f"`{env_name(n)}`" not in guide)
    assert not missing
