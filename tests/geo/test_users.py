"""Users in the workspace: hashes, roles, lock-out kept in the workspace, sessions ended by a password change."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from geo.users import (
    LOCK_MINUTES,
    MAX_FAILURES,
    ROLES,
    AccessDenied,
    SignInError,
    UserError,
    UserStore,
    role_at_least,
)

PW = "correct horse 1"


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path)


def test_no_users_means_open(store):
    assert not store.has_users()
    assert store.list() == []
    assert not store.path.exists()  # reading creates nothing


def test_add_stores_a_salted_argon2_hash_never_the_password(store):
    store.add("wang", PW, "planner")
    store.add("li", PW, "leader")
    with sqlite3.connect(store.path) as con:
        rows = dict(con.execute("SELECT name, password_hash FROM users").fetchall())
    assert all(h.startswith("$argon2id$") for h in rows.values())
    assert rows["wang"] != rows["li"]  # same password, different salts
    assert PW not in store.path.read_bytes().decode("latin-1")
    assert PasswordHasher().verify(rows["wang"], PW)
    assert [(u.name, u.role) for u in store.list()] == [("li", "leader"), ("wang", "planner")]
    assert store.has_users()


def test_hashes_use_owasps_argon2id_parameters_and_older_ones_are_made_again_at_sign_in(store):
    store.add("wang", PW, "planner")
    with sqlite3.connect(store.path) as con:
        (stored,) = con.execute("SELECT password_hash FROM users WHERE name = 'wang'").fetchone()
        assert stored.startswith("$argon2id$v=19$m=47104,t=1,p=1$")
        # a hash from before (argon2-cffi's defaults: 64 MiB, 3 passes, 4 lanes) still signs in ...
        old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PW)
        con.execute("UPDATE users SET password_hash = ? WHERE name = 'wang'", (old,))
    assert store.authenticate("wang", PW).name == "wang"
    with sqlite3.connect(store.path) as con:
        (now,) = con.execute("SELECT password_hash FROM users WHERE name = 'wang'").fetchone()
    # ... and is replaced by one with today's parameters (the same password)
    assert now != old and now.startswith("$argon2id$v=19$m=47104,t=1,p=1$") and PasswordHasher().verify(now, PW)


def test_roles_are_ordered():
    assert ROLES == ("leader", "planner", "staff", "admin")
    assert role_at_least("admin", "staff") and role_at_least("staff", "staff")
    assert not role_at_least("planner", "staff") and not role_at_least(None, "leader")
    assert not role_at_least("intruder", "leader")


@pytest.mark.parametrize(("args", "code", "match"), [
    (("x", PW, "boss"), "user.bad_role", "role was 'boss' but must be one of leader, planner, staff, admin"),
    (("x", "short", "leader"), "user.weak_password", "at least 8 characters"),
    (("a b", PW, "leader"), "user.bad_name", "must be 1 to 64 letters"),
    (("", PW, "leader"), "user.bad_name", "must be 1 to 64 letters"),
])
def test_add_refuses_bad_input(store, args, code, match):
    with pytest.raises(UserError, match=match) as info:
        store.add(*args)
    assert info.value.code == code
    assert not store.has_users()


def test_duplicate_name_and_email_refused(store):
    store.add("张伟", PW, "staff", email="zw@district.gov.cn")
    with pytest.raises(UserError, match="user '张伟' already exists"):
        store.add("张伟", PW, "leader")
    with pytest.raises(UserError, match="belongs to another user"):
        store.add("li", PW, "leader", email="ZW@district.gov.cn")
    assert store.by_email("zw@DISTRICT.gov.cn").name == "张伟"


def test_sign_in_and_wrong_password(store):
    store.add("wang", PW, "planner")
    s = store.authenticate("wang", PW)
    assert (s.name, s.role) == ("wang", "planner")
    with pytest.raises(SignInError, match="wrong user name or password") as info:
        store.authenticate("wang", "nope nope")
    assert info.value.code == "auth.bad_credentials" and info.value.params["left"] == MAX_FAILURES - 1
    with pytest.raises(SignInError, match="wrong user name or password"):
        store.authenticate("nobody", PW)


def test_five_failures_lock_and_a_new_store_sees_the_lock(store, tmp_path):
    store.add("wang", PW, "planner")
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for i in range(MAX_FAILURES - 1):
        with pytest.raises(SignInError) as info:
            store.authenticate("wang", f"wrong {i}xx", now=t0)
        assert info.value.code == "auth.bad_credentials"
    with pytest.raises(SignInError, match="is locked until 2026-03-01T09:15:00") as info:
        store.authenticate("wang", "wrong 5xx", now=t0)
    assert info.value.code == "auth.locked"
    # the lock is in the workspace: another "tab" (a fresh store object) is refused, even with the right password
    other = UserStore(tmp_path)
    with pytest.raises(SignInError, match="is locked") as info:
        other.authenticate("wang", PW, now=t0 + timedelta(minutes=LOCK_MINUTES - 1))
    assert info.value.code == "auth.locked"
    assert other.get("wang").locked(t0 + timedelta(minutes=1))
    # time unlocks it
    assert other.authenticate("wang", PW, now=t0 + timedelta(minutes=LOCK_MINUTES, seconds=1)).name == "wang"


def test_admin_unlock_and_success_resets_count(store):
    store.add("wang", PW, "planner")
    for i in range(MAX_FAILURES):
        with pytest.raises(SignInError):
            store.authenticate("wang", f"wrong {i}xx")
    assert store.get("wang").locked()
    store.unlock("wang")
    assert not store.get("wang").locked()
    store.authenticate("wang", PW)
    with pytest.raises(SignInError):
        store.authenticate("wang", "wrong again")
    assert store.get("wang").failures == 1
    store.authenticate("wang", PW)
    assert store.get("wang").failures == 0


def test_password_change_and_removal_end_sessions_role_change_applies_at_once(store):
    store.add("wang", PW, "planner")
    s = store.authenticate("wang", PW)
    assert store.check_session(s) == s
    store.set_role("wang", "staff")
    assert store.check_session(s).role == "staff"
    store.set_password("wang", "another pass 2")
    with pytest.raises(AccessDenied, match="session of 'wang' ended") as info:
        store.check_session(s)
    assert info.value.code == "auth.session_ended"
    with pytest.raises(SignInError):
        store.authenticate("wang", PW)
    s2 = store.authenticate("wang", "another pass 2")
    store.remove("wang")
    with pytest.raises(AccessDenied, match="user 'wang' no longer exists"):
        store.check_session(s2)


def test_last_admin_cannot_be_removed_or_demoted(store):
    store.add("root", PW, "admin")
    store.add("li", PW, "leader")
    with pytest.raises(UserError, match="'root' is the last admin") as info:
        store.remove("root")
    assert info.value.code == "user.last_admin"
    with pytest.raises(UserError, match="last admin"):
        store.set_role("root", "staff")
    store.set_role("li", "admin")
    store.set_role("root", "staff")
    assert {u.name: u.role for u in store.list()} == {"root": "staff", "li": "admin"}


def test_unknown_user_commands(store):
    for call in (lambda: store.remove("ghost"), lambda: store.set_role("ghost", "admin"),
                 lambda: store.unlock("ghost"), lambda: store.set_password("ghost", PW)):
        with pytest.raises(UserError, match="no user is called 'ghost'"):
            call()


def test_concurrent_failures_are_all_counted(store):
    """Ten threads (sessions) failing at once: the count in the workspace sees each one (no lost update)."""
    store.add("wang", PW, "planner")
    errors = []

    def attempt():
        try:
            UserStore(store.home).authenticate("wang", "wrong pass x")
        except SignInError as err:
            errors.append(err.code)

    threads = [threading.Thread(target=attempt) for _ in range(MAX_FAILURES + 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # five failures lock; the lock restarts the count, the last two are refused as locked
    assert errors.count("auth.locked") == 3 and errors.count("auth.bad_credentials") == MAX_FAILURES - 1
    assert store.get("wang").locked()


def test_a_sign_in_does_not_wait_for_another_ones_password_check(store, monkeypatch):
    """The slow Argon2 check runs outside the transaction: while one sign-in's check is held up, another user signs
    in (checked inside the write transaction, the second waited for the first's hashing: a 9:00 queue)."""
    import geo.users as users_mod

    store.add("wang", PW, "planner")
    store.add("li", "another pass 2", "leader")
    real = users_mod._verify
    holding, release = threading.Event(), threading.Event()

    def verify(digest, password):
        if password == PW:  # wang's check: held until li has signed in
            holding.set()
            assert release.wait(30), "li's sign-in never finished while wang's password was being checked"
        return real(digest, password)

    monkeypatch.setattr(users_mod, "_verify", verify)
    got: dict = {}
    th = threading.Thread(target=lambda: got.update(wang=UserStore(store.home).authenticate("wang", PW)))
    th.start()
    assert holding.wait(30)
    li = UserStore(store.home).authenticate("li", "another pass 2")  # not queued behind wang's check
    release.set()
    th.join(30)
    assert li.name == "li" and got["wang"].name == "wang"


def test_a_password_changed_during_the_check_is_the_one_that_counts(store, monkeypatch):
    import geo.users as users_mod

    store.add("wang", PW, "planner")
    real = users_mod._verify
    calls = []

    def verify(digest, password):
        calls.append(password)
        if len(calls) == 1:  # an admin sets a new password while the old one is being checked
            UserStore(store.home).set_password("wang", "brand new pass 3")
        return real(digest, password)

    monkeypatch.setattr(users_mod, "_verify", verify)
    with pytest.raises(SignInError) as info:
        store.authenticate("wang", PW)
    assert info.value.code == "auth.bad_credentials" and calls == [PW, PW]  # checked again, against the new hash
    assert store.get("wang").failures == 1
    assert store.authenticate("wang", "brand new pass 3").name == "wang"


def test_sso_by_email(store):
    store.add("zhao", PW, "leader", email="zhao@district.gov.cn")
    s = store.session_for_email("Zhao@district.gov.cn")
    assert (s.name, s.role, s.via) == ("zhao", "leader", "oidc")
    with pytest.raises(AccessDenied, match="no user has the e-mail 'x@y.cn'"):
        store.session_for_email("x@y.cn")


def test_roles_agree_with_the_option_list():
    from analysis.options import ROLES as OPTION_ROLES

    assert OPTION_ROLES == ROLES
