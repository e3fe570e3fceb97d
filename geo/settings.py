"""Every setting GridAtlas reads, in one place: typed, validated, documented.

Settings come from environment variables (``GRIDATLAS_*``) and, for some,
from a section of ``.streamlit/secrets.toml`` (the variable wins). They are
read at call time, never frozen into default arguments, so a test or a
long-running server sees a changed value. An invalid value is an error that
names the variable and what is allowed — never a silent fallback.

`SETTINGS` is the registry; the README's configuration table is generated
from it (``python -m geo.settings``) and a test checks that they agree.
Nothing outside this module (tests and bench aside) reads ``os.environ``.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"
BOOL_WORDS: dict[str, bool] = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True)
class Setting:
    """One setting: its variable, kind, default, allowed values and a one-line description."""

    env: str
    kind: str  # "str" | "path" | "int" | "bool" | "choice" | "url" | "dataset"
    description: str
    default: Any = None
    choices: tuple[str, ...] = ()
    secret: tuple[str, str] | None = None  # (section, key) in .streamlit/secrets.toml
    minimum: int | None = None
    maximum: int | None = None
    url_schemes: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = (
    Setting("GRIDATLAS_HOME", "path",
            "workspace folder: datasets and their versions, users, audit log (default `workspace/` in the checkout)"),
    Setting("GRIDATLAS_DATA", "dataset",
            "dataset the app and the CLI open: a dataset name in the workspace, a GeoPackage path or a "
            "`postgresql://` URL (default: the demo)"),
    Setting("GRIDATLAS_TILES", "url", "basemap tile URL template, e.g. an intranet tile server "
            "`http://tiles.local/{z}/{x}/{y}.png`; unset: no basemap, layers on a plain background",
            secret=("basemap", "url"), url_schemes=("http", "https")),
    Setting("GRIDATLAS_TILES_ATTR", "str", "attribution shown for those tiles", default="tiles",
            secret=("basemap", "attribution")),
    Setting("GRIDATLAS_TILES_DATUM", "choice",
            "datum of the tiles: `wgs84`, or `gcj02` for Amap/Tencent tiles (layers are shifted to match)",
            default="wgs84", choices=("wgs84", "gcj02"), secret=("basemap", "datum")),
    Setting("GRIDATLAS_MAX_UPLOAD_MB", "int", "largest upload the 数据管理 page accepts, and most `import`/`validate` "
            "read from a local file (a GeoPackage: the chosen layer's own bytes), in MB",
            default=200, minimum=1, maximum=10_000),
    Setting("GRIDATLAS_DASK", "url", "dask.distributed scheduler the heavy analyses run on, e.g. "
            "`tcp://127.0.0.1:8786`; unset: in-process", url_schemes=("tcp", "tls", "inproc", "ws", "wss")),
    Setting("GRIDATLAS_STRICT", "bool", "`1`: a page section that fails raises instead of showing a short message "
            "with an error id (the test suite sets it, so no failure hides); `0`: the rest of the page still renders",
            default="0"),
)
BY_ENV: dict[str, Setting] = {s.env: s for s in SETTINGS}


def _secrets(path: Path | None = None) -> Mapping[str, Any]:
    path = path or SECRETS_PATH
    if not path.exists():
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path} cannot be read as TOML ({exc})", code="settings.secrets_unreadable",
                            params={"path": str(path), "reason": str(exc)}) from exc


def secrets_section(section: str) -> Mapping[str, Any]:
    """One section of ``.streamlit/secrets.toml`` (empty when the file or section is absent)."""
    value = _secrets().get(section, {})
    return value if isinstance(value, Mapping) else {}


def _raw(s: Setting, env: Mapping[str, str]) -> tuple[Any, str]:
    """The raw value and where it came from (``env``, ``secrets`` or ``default``)."""
    value = env.get(s.env)
    if value not in (None, ""):
        return value, "env"
    if s.secret is not None:
        section, key = s.secret
        got = secrets_section(section).get(key)
        if got not in (None, ""):
            return got, "secrets"
    return s.default, "default"


def _where(s: Setting, source: str) -> str:
    if source == "secrets" and s.secret:
        return f"[{s.secret[0]}] {s.secret[1]} in .streamlit/secrets.toml"
    return s.env


def _convert(s: Setting, value: Any, source: str) -> Any:
    if value is None:
        return None
    where = _where(s, source)

    def bad(allowed: str) -> SettingsError:
        return SettingsError(f"{where} was {value!r} but must be {allowed}", code="settings.invalid",
                             params={"name": where, "value": str(value), "allowed": allowed})

    if s.kind == "bool":
        text = str(value).strip().lower()
        if text not in BOOL_WORDS:
            raise bad("one of " + ", ".join(BOOL_WORDS))
        return BOOL_WORDS[text]
    if s.kind == "int":
        try:
            number = int(str(value).strip())
        except ValueError:
            raise bad(f"a whole number from {s.minimum} to {s.maximum}") from None
        if (s.minimum is not None and number < s.minimum) or (s.maximum is not None and number > s.maximum):
            raise bad(f"a whole number from {s.minimum} to {s.maximum}")
        return number
    text = str(value).strip()
    if s.kind == "choice":
        if text.lower() not in s.choices:
            raise bad("one of " + ", ".join(s.choices))
        return text.lower()
    if s.kind == "url":
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        if scheme not in s.url_schemes:
            raise bad("a URL starting with " + " or ".join(f"{x}://" for x in s.url_schemes))
        return text
    if s.kind == "path":
        path = Path(text).expanduser()
        if path.exists() and not path.is_dir():
            raise bad("a folder (this is a file)")
        return path
    if s.kind == "dataset":
        from geo.errors import StorageError
        from geo.ref import PG_SCHEMES, DatasetRef  # the one parser of dataset specs

        try:
            DatasetRef.parse(text)
        except StorageError:
            raise bad("a dataset name, a GeoPackage path or a URL starting with "
                      + " or ".join(f"{x}://" for x in (*PG_SCHEMES, "postgresql+DRIVER"))) from None
    return text


def get(env_name: str, *, env: Mapping[str, str] | None = None) -> Any:
    """The validated value of one setting (read now); raises `SettingsError` if it is invalid."""
    s = BY_ENV[env_name]
    value, source = _raw(s, os.environ if env is None else env)
    return _convert(s, value, source)


def check_all(*, env: Mapping[str, str] | None = None) -> None:
    """Validate every setting at start; one `SettingsError` naming each invalid one."""
    errors: list[SettingsError] = []
    for s in SETTINGS:
        try:
            get(s.env, env=env)
        except SettingsError as err:
            errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SettingsError("; ".join(e.message for e in errors), code="settings.several",
                            params={"messages": "; ".join(e.message for e in errors)})


# --- typed accessors (what the rest of the project calls) --------------------

def home() -> Path:
    """The workspace folder (``GRIDATLAS_HOME``, default ``workspace/`` in the checkout)."""
    return get("GRIDATLAS_HOME") or (PROJECT_ROOT / "workspace")


def data() -> str | None:
    """The dataset to open (``GRIDATLAS_DATA``), or None for the default."""
    return get("GRIDATLAS_DATA")


def max_upload_mb() -> int:
    return int(get("GRIDATLAS_MAX_UPLOAD_MB"))


def dask_scheduler() -> str | None:
    return get("GRIDATLAS_DASK")


def strict() -> bool:
    """Whether a failing page section re-raises (``GRIDATLAS_STRICT``; the tests set it) instead of being contained."""
    return bool(get("GRIDATLAS_STRICT"))


@dataclass(frozen=True)
class Basemap:
    """Tile server (none by default), its attribution and its datum."""

    url: str | None
    attribution: str
    datum: str


def basemap() -> Basemap:
    return Basemap(url=get("GRIDATLAS_TILES"), attribution=get("GRIDATLAS_TILES_ATTR") or "tiles",
                   datum=get("GRIDATLAS_TILES_DATUM"))


ACCESSORS: dict[str, Callable[[], Any]] = {"home": home, "data": data, "max_upload_mb": max_upload_mb,
                                           "dask_scheduler": dask_scheduler,
                                           "strict": strict, "basemap": basemap}


def markdown_table() -> str:
    """The README's configuration table, generated from `SETTINGS`."""
    lines = ["| setting | secrets.toml | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        secret = f"`[{s.secret[0]}] {s.secret[1]}`" if s.secret else ""
        default = "" if s.default is None else f"`{s.default}`"
        lines.append(f"| `{s.env}` | {secret} | {default} | {s.description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")
