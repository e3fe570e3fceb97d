"""Single sign-on configuration and role mapping, offline."""

from __future__ import annotations

import pytest

from geo.errors import SettingsError
from geo.sso import SsoConfig, parse_sso, role_for_identity
from geo.users import UserStore

BASE = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32}
PROVIDER = {"client_id": "gridatlas", "client_secret": "x", "server_metadata_url":
            "https://idp.district.local/.well-known/openid-configuration"}


def test_off_without_auth_section():
    assert parse_sso({}) is None


def test_default_and_named_providers():
    assert parse_sso({**BASE, **PROVIDER}).providers == ("default",)
    cfg = parse_sso({**BASE, "keycloak": PROVIDER, "entra": PROVIDER},
                    {"role_claim": "groups", "claim_roles": {"ga-admins": "admin", "ga-view": "leader"}})
    assert cfg.providers == ("keycloak", "entra") and cfg.role_claim == "groups"


def test_every_missing_key_named_at_once():
    with pytest.raises(SettingsError) as info:
        parse_sso({"redirect_uri": "http://localhost:8501/callback", "my_idp": {"client_id": "x"},
                   "keycloak": {"client_id": "x"}}, {"claim_roles": {"g": "boss"}})
    err = info.value
    assert err.code == "settings.sso_incomplete"
    for part in ("cookie_secret", "[auth.my_idp] (a provider name must not contain _)",
                 "[auth.keycloak] client_secret", "[auth.keycloak] server_metadata_url",
                 "redirect_uri ending in /oauth2callback (was 'http://localhost:8501/callback')",
                 "roles among leader, planner, staff, admin (found boss)", "[sso] role_claim"):
        assert part in err.message, part


def test_role_from_users_table_then_claim(tmp_path):
    store = UserStore(tmp_path)
    store.add("zhao", "password 123", "planner", email="zhao@district.gov.cn")
    cfg = SsoConfig(providers=("default",), role_claim="groups",
                    claim_roles={"ga-admins": "admin", "ga-view": "leader", "ga-staff": "staff"})
    assert role_for_identity({"email": "ZHAO@district.gov.cn", "groups": ["ga-admins"]}, cfg, store) == \
        ("zhao", "planner")  # the table wins
    assert role_for_identity({"email": "qian@district.gov.cn", "groups": ["ga-view", "ga-staff"]}, cfg, store) == \
        ("qian@district.gov.cn", "staff")
    assert role_for_identity({"email": "sun@x.cn", "groups": "ga-view"}, cfg, store) == ("sun@x.cn", "leader")
    assert role_for_identity({"email": "sun@x.cn", "groups": ["other"]}, cfg, store) is None
    assert role_for_identity({"email": "sun@x.cn"}, SsoConfig(providers=("default",)), store) is None
