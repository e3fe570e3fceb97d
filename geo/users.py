"""Users of the app and their roles, kept in the workspace (``GRIDATLAS_HOME/users.sqlite``).

Contract
--------
- Roles, each a superset of the one before: ``leader`` (view, download) <
  ``planner`` (+ siting runs, scenarios) < ``staff`` (+ import, restore,
  unmasked personal data) < ``admin`` (+ users, audit log). `role_at_least`
  compares them.
- Passwords are stored only as Argon2id hashes (argon2-cffi: salted, with its
  parameters in the hash: OWASP's 46 MiB, 1 pass, 1 lane); a hash made with
  other parameters is re-hashed at the next sign-in. A password is checked
  outside any transaction (one check per core at a time), so a sign-in never
  holds the users table while it hashes.
- Lock-out lives in the workspace, not in the browser: after `MAX_FAILURES`
  wrong passwords in a row an account is locked for `LOCK_MINUTES` (a new tab
  does not reset it). It unlocks when the time has passed, when an admin
  unlocks it (`unlock`, `user unlock NAME`) or sets a new password.
- A sign-in returns a `Session` carrying the user's ``epoch``. A password
  change, a removal or ``sign_out_everywhere`` raise the epoch, so every
  session signed in before is refused by `check_session` at its next rerun.
  The role is read from the table at each check: a role change applies at once.
- With no users at all the app runs open (`has_users` is False).
- Every write is one SQLite transaction (WAL, busy timeout), safe for many
  sessions and the CLI at once. Nothing here imports Streamlit.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geo import settings
from geo.errors import GridAtlasError

ROLES: tuple[str, ...] = ("leader", "planner", "staff", "admin")
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_CHARS = 8
MAX_NAME_CHARS = 64
DB_NAME = "users.sqlite"
_NAME_RE = re.compile(r"^[\w.@-]+$")  # letters (Chinese included), digits, _ . @ -
# Argon2id with one of OWASP's recommended configurations (Password Storage Cheat Sheet: 46 MiB, 1 pass, 1 lane):
# memory-hard, 0.065 s of CPU a check on this 2-core server. argon2-cffi's default (64 MiB, 3 passes, 4 lanes) took
# 0.2 s, and thirty staff signing in within a quarter of a minute at 9:00 spent a third of a core on it
# (bench/RESULTS.md, "Load"). OWASP's 19 MiB, 2-pass configuration costs less CPU, but glibc serves blocks under
# 32 MiB from its arenas once a larger one has been freed and keeps them: ten sign-ins at once left the server
# 190 MB larger for good, where 46 MiB blocks go back to the system as soon as a check ends. At most one check per
# core runs at a time (more would only share the cores and hold more memory at once). A hash made with other
# parameters is made again at its user's next sign-in.
_HASHER = PasswordHasher(time_cost=1, memory_cost=46 * 1024, parallelism=1)
_HASHING = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def _hash(password: str) -> str:
    with _HASHING:
        return _HASHER.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name costs as long as a wrong password.

    Made on first need, not at import (every page's first run paid for the hashing).
    """
    return _hash("not a password of anyone")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    email TEXT,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users(lower(email)) WHERE email IS NOT NULL;
"""


class UserError(GridAtlasError, ValueError):
    """A user command that cannot be done (unknown user, bad role, weak password, last admin)."""

    default_code = "user.invalid"


class SignInError(GridAtlasError, PermissionError):
    """A sign-in refused: wrong name or password (``auth.bad_credentials``) or a locked account (``auth.locked``)."""

    default_code = "auth.bad_credentials"


class AccessDenied(GridAtlasError, PermissionError):
    """An action the signed-in role may not do (``auth.denied``) or a session no longer valid."""

    default_code = "auth.denied"


@dataclass(frozen=True)
class User:
    """One row of the users table, without the hash."""

    name: str
    role: str
    email: str | None
    created_at: str
    password_changed_at: str
    failures: int
    locked_until: str | None

    def locked(self, now: datetime | None = None) -> bool:
        return _is_locked(self.locked_until, now or _now())


@dataclass(frozen=True)
class Session:
    """Who is signed in in one browser session: kept in that session's state, checked at every rerun."""

    name: str
    role: str
    epoch: int
    via: str = "password"  # or "oidc"


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def _is_locked(locked_until: str | None, now: datetime) -> bool:
    return bool(locked_until) and datetime.fromisoformat(locked_until) > now


def role_rank(role: str) -> int:
    if role not in ROLES:
        raise UserError(f"role was {role!r} but must be one of {', '.join(ROLES)}", code="user.bad_role",
                        params={"role": role, "allowed": ", ".join(ROLES)})
    return ROLES.index(role)


def role_at_least(role: str | None, needed: str) -> bool:
    """True when ``role`` may do what ``needed`` may (None, i.e. signed out, may nothing)."""
    return role is not None and role in ROLES and ROLES.index(role) >= role_rank(needed)


def check_user_name(name: str) -> str:
    """A user name, trimmed: 1 to `MAX_NAME_CHARS` letters, digits or _ . @ -; `UserError` otherwise."""
    clean = str(name).strip()
    if not clean or len(clean) > MAX_NAME_CHARS or not _NAME_RE.match(clean):
        raise UserError(f"user name {name!r} must be 1 to {MAX_NAME_CHARS} letters, digits or _ . @ -",
                        code="user.bad_name", params={"name": str(name), "max": MAX_NAME_CHARS})
    return clean


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"the password must have at least {MIN_PASSWORD_CHARS} characters",
                        code="user.weak_password", params={"min": MIN_PASSWORD_CHARS})
    if password != password.strip():
        raise UserError("the password must not begin or end with a space", code="user.password_spaces")
    return password


_READY: set[tuple[str, int, int]] = set()  # database files (path, device, inode) whose schema is in place


def _file_identity(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_dev, st.st_ino)


class UserStore:
    """The users table of one workspace. Cheap to create; each call opens its own connection."""

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home) if home is not None else settings.home()
        self.path = self.home / DB_NAME

    @contextmanager
    def _db(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        ident = None
        if not write and not self.path.exists():
            con = sqlite3.connect(":memory:")
        else:
            self.home.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA busy_timeout=30000")
            ident = _file_identity(self.path)
        con.row_factory = sqlite3.Row
        try:
            # every page run reads the users table (is anybody configured? is this session still valid?): the
            # schema and the journal mode are set once per database file, not on every read
            if ident is None or ident not in _READY:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                if ident is not None:
                    _READY.add(ident)
            if write:
                con.execute("BEGIN IMMEDIATE")
            yield con
            if write:
                con.execute("COMMIT")
        except BaseException:
            if write and con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    # --- reading --------------------------------------------------------------------------
    def has_users(self) -> bool:
        with self._db() as con:
            return con.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def list(self) -> list[User]:
        with self._db() as con:
            rows = con.execute("SELECT * FROM users ORDER BY name").fetchall()
        return [_user(r) for r in rows]

    def get(self, name: str) -> User | None:
        with self._db() as con:
            row = con.execute("SELECT * FROM users WHERE name = ?", (str(name).strip(),)).fetchone()
        return _user(row) if row else None

    def by_email(self, email: str) -> User | None:
        with self._db() as con:
            row = con.execute("SELECT * FROM users WHERE lower(email) = lower(?)", (email.strip(),)).fetchone()
        return _user(row) if row else None

    # --- changing -------------------------------------------------------------------------
    def add(self, name: str, password: str, role: str, *, email: str | None = None) -> User:
        name = check_user_name(name)
        role_rank(role)
        check_password(password)
        email = _check_email(email)
        now = _iso(_now())
        digest = _hash(password)
        with self._db(write=True) as con:
            if con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise UserError(f"user {name!r} already exists", code="user.exists", params={"name": name})
            if email and con.execute("SELECT 1 FROM users WHERE lower(email) = lower(?)", (email,)).fetchone():
                raise UserError(f"e-mail {email!r} belongs to another user", code="user.email_taken",
                                params={"email": email})
            con.execute("INSERT INTO users (name, role, password_hash, email, created_at, password_changed_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (name, role, digest, email, now, now))
        return self.get(name)  # type: ignore[return-value]

    def remove(self, name: str) -> None:
        with self._db(write=True) as con:
            row = self._row(con, name)
            self._keep_an_admin(con, row, new_role=None)
            con.execute("DELETE FROM users WHERE name = ?", (row["name"],))

    def set_role(self, name: str, role: str) -> User:
        role_rank(role)
        with self._db(write=True) as con:
            row = self._row(con, name)
            self._keep_an_admin(con, row, new_role=role)
            con.execute("UPDATE users SET role = ? WHERE name = ?", (role, row["name"]))
        return self.get(row["name"])  # type: ignore[return-value]

    def set_password(self, name: str, password: str) -> User:
        """New password: every session signed in before is signed out; a lock is lifted."""
        check_password(password)
        digest = _hash(password)
        with self._db(write=True) as con:
            row = self._row(con, name)
            con.execute("UPDATE users SET password_hash = ?, password_changed_at = ?, epoch = epoch + 1, "
                        "failures = 0, locked_until = NULL WHERE name = ?", (digest, _iso(_now()), row["name"]))
        return self.get(row["name"])  # type: ignore[return-value]

    def set_email(self, name: str, email: str | None) -> User:
        email = _check_email(email)
        with self._db(write=True) as con:
            row = self._row(con, name)
            if email and con.execute("SELECT 1 FROM users WHERE lower(email) = lower(?) AND name <> ?",
                                     (email, row["name"])).fetchone():
                raise UserError(f"e-mail {email!r} belongs to another user", code="user.email_taken",
                                params={"email": email})
            con.execute("UPDATE users SET email = ? WHERE name = ?", (email, row["name"]))
        return self.get(row["name"])  # type: ignore[return-value]

    def unlock(self, name: str) -> User:
        with self._db(write=True) as con:
            row = self._row(con, name)
            con.execute("UPDATE users SET failures = 0, locked_until = NULL WHERE name = ?", (row["name"],))
        return self.get(row["name"])  # type: ignore[return-value]

    def sign_out_everywhere(self, name: str) -> None:
        with self._db(write=True) as con:
            row = self._row(con, name)
            con.execute("UPDATE users SET epoch = epoch + 1 WHERE name = ?", (row["name"],))

    # --- signing in -----------------------------------------------------------------------
    def authenticate(self, name: str, password: str, *, now: datetime | None = None) -> Session:
        """A session for ``name`` if the password is right and the account not locked; else `SignInError`.

        A wrong password counts a failure in the workspace; the `MAX_FAILURES`-th locks the
        account for `LOCK_MINUTES`. A locked account is refused without checking the password.

        The password is checked outside any transaction (Argon2 is slow by design), so
        sign-ins run side by side; the outcome is then written in one transaction that reads the account again:
        a lock set meanwhile refuses, every failure is counted, and a password changed meanwhile is checked
        anew. (Checking inside the transaction made thirty staff signing in at 9:00 queue behind each other's
        hashing: bench/RESULTS.md, "Load".)
        """
        now = now or _now()
        name = str(name).strip()
        for _ in range(3):  # a password changed between the check and the write: check the new one
            with self._db() as con:
                row = con.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                _verify(_dummy_hash(), password)  # as long as a wrong password takes
                raise SignInError("wrong user name or password", code="auth.bad_credentials")
            if _is_locked(row["locked_until"], now):
                raise _locked(name, row["locked_until"])
            right = _verify(row["password_hash"], password)
            rehashed = _hash(password) if right and _HASHER.check_needs_rehash(row["password_hash"]) else None
            # the outcome is decided inside the transaction and raised after it commits (a raise inside would
            # roll back the failure count)
            refusal: SignInError | None = None
            with self._db(write=True) as con:
                cur = con.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
                if cur is None or cur["password_hash"] != row["password_hash"]:
                    continue  # removed, or given a new password, while this one was being checked
                if _is_locked(cur["locked_until"], now):
                    refusal = _locked(name, cur["locked_until"])
                elif not right:
                    failures = int(cur["failures"]) + 1
                    locked_until = _iso(now + timedelta(minutes=LOCK_MINUTES)) if failures >= MAX_FAILURES else None
                    # a lock starts a new count: after it runs out, five more tries
                    con.execute("UPDATE users SET failures = ?, locked_until = ? WHERE name = ?",
                                (0 if locked_until else failures, locked_until, name))
                    if locked_until:
                        refusal = SignInError(f"account {name!r} is locked until {locked_until} after {failures} "
                                              "wrong passwords", code="auth.locked",
                                              params={"name": name, "until": locked_until, "minutes": LOCK_MINUTES})
                    else:
                        refusal = SignInError("wrong user name or password", code="auth.bad_credentials",
                                              params={"left": MAX_FAILURES - failures})
                else:
                    con.execute("UPDATE users SET failures = 0, locked_until = NULL, password_hash = ? WHERE name = ?",
                                (rehashed or cur["password_hash"], name))
                    session = Session(name=name, role=cur["role"], epoch=int(cur["epoch"]))
            if refusal is not None:
                raise refusal
            return session
        raise SignInError("wrong user name or password", code="auth.bad_credentials")

    def session_for_email(self, email: str) -> Session:
        """A session for the user whose e-mail an identity provider vouched for (single sign-on)."""
        user = self.by_email(email)
        if user is None:
            raise AccessDenied(f"no user has the e-mail {email!r}", code="auth.sso_unknown", params={"email": email})
        with self._db() as con:
            epoch = con.execute("SELECT epoch FROM users WHERE name = ?", (user.name,)).fetchone()[0]
        return Session(name=user.name, role=user.role, epoch=int(epoch), via="oidc")

    def check_session(self, session: Session) -> Session:
        """The session with its current role, or `AccessDenied` if the user is gone or signed out everywhere."""
        with self._db() as con:
            row = con.execute("SELECT role, epoch FROM users WHERE name = ?", (session.name,)).fetchone()
        if row is None:
            raise AccessDenied(f"user {session.name!r} no longer exists", code="auth.session_ended",
                               params={"name": session.name})
        if int(row["epoch"]) != session.epoch:
            raise AccessDenied(f"the session of {session.name!r} ended (password changed or signed out everywhere)",
                               code="auth.session_ended", params={"name": session.name})
        if row["role"] != session.role:
            return Session(name=session.name, role=row["role"], epoch=session.epoch, via=session.via)
        return session

    # --- helpers --------------------------------------------------------------------------
    @staticmethod
    def _row(con: sqlite3.Connection, name: str) -> sqlite3.Row:
        row = con.execute("SELECT * FROM users WHERE name = ?", (str(name).strip(),)).fetchone()
        if row is None:
            raise UserError(f"no user is called {name!r}", code="user.unknown", params={"name": str(name)})
        return row

    @staticmethod
    def _keep_an_admin(con: sqlite3.Connection, row: sqlite3.Row, *, new_role: str | None) -> None:
        """Refuse to remove or demote the last admin (nobody could manage users any more)."""
        if row["role"] != "admin" or new_role == "admin":
            return
        admins = con.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchone()[0]
        others = con.execute("SELECT count(*) FROM users WHERE name <> ?", (row["name"],)).fetchone()[0]
        if admins == 1 and others > 0:
            raise UserError(f"{row['name']!r} is the last admin; make another user admin first",
                            code="user.last_admin", params={"name": row["name"]})


def _locked(name: str, until: str) -> SignInError:
    return SignInError(f"account {name!r} is locked until {until}", code="auth.locked",
                       params={"name": name, "until": until, "minutes": LOCK_MINUTES})


def _verify(digest: str, password: str) -> bool:
    try:
        with _HASHING:
            return _HASHER.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_email(email: str | None) -> str | None:
    if email is None or not str(email).strip():
        return None
    clean = str(email).strip()
    if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", clean):
        raise UserError(f"e-mail {email!r} is not an e-mail address", code="user.bad_email", params={"email": clean})
    return clean


def _user(row: sqlite3.Row) -> User:
    return User(name=row["name"], role=row["role"], email=row["email"], created_at=row["created_at"],
                password_changed_at=row["password_changed_at"], failures=int(row["failures"]),
                locked_until=row["locked_until"])
