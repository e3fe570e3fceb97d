"""`cli.py user`: add (password from standard input, twice), list, remove, set-role, passwd, unlock; exit 2 on errors."""

from __future__ import annotations

import io
import json

import pytest

import cli
from geo.audit import AuditLog
from geo.users import SignInError, UserStore


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path))
    return tmp_path


def run(monkeypatch, capsys, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(["--lang", "en", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_set_role_remove(home, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, ["user", "add", "王主任", "--role", "admin"], "pass word 1\npass word 1\n")
    assert code == 0 and json.loads(out) == {"user": "王主任", "done": "add", "role": "admin", "users": 1}
    run(monkeypatch, capsys, ["user", "add", "li", "--role", "leader", "--email", "li@q.gov.cn"], "pw pw pw 2\npw pw pw 2\n")
    assert UserStore(home).authenticate("li", "pw pw pw 2").role == "leader"
    code, out, _ = run(monkeypatch, capsys, ["user", "set-role", "li", "staff"])
    assert code == 0 and json.loads(out)["role"] == "staff"
    code, out, _ = run(monkeypatch, capsys, ["user", "list"])
    listed = json.loads(out)
    assert [(u["name"], u["role"], u["email"]) for u in listed["users"]] == [("li", "staff", "li@q.gov.cn"),
                                                                            ("王主任", "admin", None)]
    assert listed["open"] is False
    code, _, _ = run(monkeypatch, capsys, ["user", "remove", "li"])
    assert code == 0 and [u.name for u in UserStore(home).list()] == ["王主任"]
    got = [(e.action, e.target, e.detail, e.remote) for e in reversed(AuditLog(home).entries())]
    assert got == [("user_add", "王主任", "role admin", "cli"), ("user_add", "li", "role leader", "cli"),
                   ("user_role", "li", "leader -> staff", "cli"), ("user_remove", "li", "role staff", "cli")]
    assert all(e.user.startswith("cli") for e in AuditLog(home).entries())


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["user", "add", "li", "--role", "leader"], "pass word 1\n",
     "error: give the password twice on standard input (two lines)"),
    (["user", "add", "li", "--role", "leader"], "pass word 1\npass word 2\n",
     "error: the two passwords differ; nothing was changed"),
    (["user", "add", "li", "--role", "leader"], "short\nshort\n",
     "error: The password needs at least 8 characters."),
    (["user", "remove", "ghost"], "", "error: No user is called ghost."),
    (["user", "set-role", "ghost", "staff"], "", "error: No user is called ghost."),
    (["user", "unlock", "ghost"], "", "error: No user is called ghost."),
])
def test_errors_exit_2_and_change_nothing(home, monkeypatch, capsys, argv, stdin, message):
    code, out, err = run(monkeypatch, capsys, argv, stdin)
    assert code == 2 and out == "" and err.startswith(message)
    assert not UserStore(home).has_users() and AuditLog(home).entries() == []


def test_bad_role_is_a_usage_error(home, monkeypatch, capsys):
    with pytest.raises(SystemExit) as info:
        run(monkeypatch, capsys, ["user", "add", "li", "--role", "boss"])
    assert info.value.code == 2
    assert "invalid choice: 'boss' (choose from 'leader', 'planner', 'staff', 'admin')" in capsys.readouterr().err


def test_password_is_never_an_argument(home, monkeypatch, capsys):
    with pytest.raises(SystemExit):
        run(monkeypatch, capsys, ["user", "add", "li", "--role", "leader", "--password", "x"])
    assert "unrecognized arguments: --password x" in capsys.readouterr().err


def test_passwd_ends_sessions_and_unlock(home, monkeypatch, capsys):
    store = UserStore(home)
    store.add("li", "pass word 1", "leader")
    store.add("root", "pass word 1", "admin")
    session = store.authenticate("li", "pass word 1")
    for i in range(5):
        with pytest.raises(SignInError):
            store.authenticate("li", f"wrong {i} pass")
    assert store.get("li").locked()
    assert run(monkeypatch, capsys, ["user", "unlock", "li"])[0] == 0 and not store.get("li").locked()
    assert run(monkeypatch, capsys, ["user", "passwd", "li"], "new pass 22\nnew pass 22\n")[0] == 0
    with pytest.raises(Exception, match="session of 'li' ended"):
        store.check_session(session)
    assert store.authenticate("li", "new pass 22").name == "li"
    code, _, err = run(monkeypatch, capsys, ["user", "remove", "root"])
    assert code == 2 and "root is the last administrator" in err


def test_messages_in_chinese_by_default(home, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("pass word 1\nother word 2\n"))
    assert cli.main(["user", "add", "li", "--role", "leader"]) == 2
    assert capsys.readouterr().err.strip() == "error: 两次输入的密码不一致，未做任何修改。"
