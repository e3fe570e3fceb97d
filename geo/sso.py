"""Single sign-on (OIDC through Streamlit's ``st.login``): its configuration and how roles are found.

Contract
--------
- Streamlit reads the ``[auth]`` section of ``.streamlit/secrets.toml``:
  ``redirect_uri`` (``http(s)://HOST:PORT/oauth2callback``), ``cookie_secret``,
  and either ``client_id``/``client_secret``/``server_metadata_url`` directly
  (one provider, called ``default``) or one ``[auth.NAME]`` table per provider
  (NAME without ``_``). `sso_config` checks the same keys, so a mistake is
  reported by GridAtlas as one `SettingsError` naming every missing key, not
  by a failed redirect.
- ``st.login`` only proves who someone is. The role comes from GridAtlas:
  by default the users table, matching the identity's ``email`` to a user's
  e-mail (``python cli.py user add NAME --role ROLE --email E``). With
  ``[sso] role_claim = "groups"`` and ``[sso.claim_roles]`` (claim value ->
  role), the identity's claim decides instead; a user in the table still wins.
- No ``[auth]`` section: single sign-on is off (`sso_config` returns None).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geo import settings
from geo.errors import SettingsError
from geo.users import ROLES, UserStore

_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True)
class SsoConfig:
    """Providers (``"default"`` or the ``[auth.NAME]`` names) and the claim-to-role mapping."""

    providers: tuple[str, ...]
    role_claim: str | None = None
    claim_roles: Mapping[str, str] = field(default_factory=dict)


def parse_sso(auth: Mapping[str, Any], sso: Mapping[str, Any] | None = None) -> SsoConfig | None:
    """`SsoConfig` from the ``[auth]`` and ``[sso]`` sections; None when ``[auth]`` is empty."""
    if not auth:
        return None
    missing = [k for k in ("redirect_uri", "cookie_secret") if not auth.get(k)]
    providers: list[str] = []
    if any(k in auth for k in _PROVIDER_KEYS):
        providers.append("default")
        missing += [k for k in _PROVIDER_KEYS if not auth.get(k)]
    for name, section in auth.items():
        if isinstance(section, Mapping):
            if "_" in name:
                missing.append(f"[auth.{name}] (a provider name must not contain _)")
                continue
            providers.append(name)
            missing += [f"[auth.{name}] {k}" for k in _PROVIDER_KEYS if not section.get(k)]
    if not providers:
        missing.append("client_id, client_secret, server_metadata_url (or an [auth.NAME] provider table)")
    redirect = str(auth.get("redirect_uri", ""))
    if redirect and not (redirect.startswith(("http://", "https://")) and redirect.endswith("/oauth2callback")):
        missing.append(f"redirect_uri ending in /oauth2callback (was {redirect!r})")
    sso = sso or {}
    claim = sso.get("role_claim") or None
    claim_roles = dict(sso.get("claim_roles", {}) or {})
    bad_roles = sorted({str(r) for r in claim_roles.values() if r not in ROLES})
    if bad_roles:
        missing.append(f"[sso.claim_roles] roles among {', '.join(ROLES)} (found {', '.join(bad_roles)})")
    if claim_roles and not claim:
        missing.append("[sso] role_claim (the claim that [sso.claim_roles] reads)")
    if missing:
        raise SettingsError("single sign-on in .streamlit/secrets.toml needs: " + "; ".join(missing),
                            code="settings.sso_incomplete", params={"missing": "; ".join(missing)})
    return SsoConfig(providers=tuple(providers), role_claim=claim, claim_roles=claim_roles)


def sso_config() -> SsoConfig | None:
    """The configured single sign-on, read now from ``.streamlit/secrets.toml`` (None when off)."""
    return parse_sso(settings.secrets_section("auth"), settings.secrets_section("sso"))


def role_for_identity(identity: Mapping[str, Any], config: SsoConfig, store: UserStore) -> tuple[str, str] | None:
    """(user name, role) for an identity the provider vouched for, or None when GridAtlas does not know it.

    A user whose e-mail matches comes first; else the highest role any value of
    ``role_claim`` maps to (the claim may be a string or a list), named by the e-mail.
    """
    email = str(identity.get("email") or "").strip()
    if email:
        user = store.by_email(email)
        if user is not None:
            return user.name, user.role
    if config.role_claim:
        values = identity.get(config.role_claim)
        values = values if isinstance(values, list | tuple) else [values]
        roles = [config.claim_roles[str(v)] for v in values if str(v) in config.claim_roles]
        if roles:
            return email or str(identity.get("sub", "")), max(roles, key=ROLES.index)
    return None
