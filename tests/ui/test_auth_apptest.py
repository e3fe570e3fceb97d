"""Sign-in gate, roles, masking and the audit trail through the real app script (Streamlit's AppTest)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.audit import AuditLog
from geo.users import UserStore
from tests.e2e.conftest import ROOT

APP = str(ROOT / "app.py")
PW = "pass word 1"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path))
    store = UserStore(tmp_path)
    for name, role in (("ling", "leader"), ("ping", "planner"), ("shi", "staff"), ("guan", "admin")):
        store.add(name, PW, role)
    return tmp_path


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sign_in(at: AppTest, name: str, password: str = PW) -> AppTest:
    at.text_input(key="sign_in_name").set_value(name)
    at.text_input(key="sign_in_password").set_value(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_open_without_users_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path))
    at = _app()
    assert any("未配置用户" in w.value for w in at.sidebar.warning)
    assert at.metric and at.title[0].value != "登录"


def test_signed_out_shows_only_the_sign_in(home):
    """Signed out: the sign-in form and nothing else (every page's address: tests/e2e/test_signin.py)."""
    at = _app()
    assert [t.value for t in at.title] == ["登录"]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert not at.get("vega_lite_chart") and not at.get("download_button")
    assert "auth.sidebar.signed_out" not in str(at.sidebar)  # labels are translated
    assert [c.value for c in at.sidebar.caption] == ["请先登录。"]


def test_wrong_password_then_sign_in_records_both(home):
    at = _app()
    _sign_in(at, "ping", "wrong password")
    assert [e.value for e in at.error] == ["用户名或密码错误。"]
    _sign_in(at, "ping")
    assert at.metric and at.title[0].value != "登录"
    assert any("ping（规划人员）" in c.value for c in at.sidebar.caption)
    got = [(e.action, e.user, e.ok) for e in AuditLog(home).entries()]
    assert got == [("sign_in", "ping", True), ("sign_in_failed", "ping", False)]


def test_five_wrong_passwords_lock_even_from_a_new_session(home):
    at = _app()
    for i in range(5):
        _sign_in(at, "ling", f"wrong {i} password")
    assert "已锁定" in at.error[0].value
    fresh = _app()  # a new tab: the lock is in the workspace
    _sign_in(fresh, "ling")
    assert "已锁定" in fresh.error[0].value and not fresh.metric


def test_sign_out_and_password_change_end_the_session(home):
    at = _sign_in(_app(), "shi")
    at.sidebar.button(key="sign_out").click().run()
    assert at.title[0].value == "登录" and "已退出登录。" in [i.value for i in at.info]
    _sign_in(at, "shi")
    UserStore(home).set_password("shi", "a new pass 9")
    at.run()
    assert at.title[0].value == "登录" and not at.metric
    assert [e.action for e in AuditLog(home).entries(user="shi")] == ["sign_in", "sign_out", "sign_in"]


def test_roles_see_the_controls_they_may_use(home):
    leader = _sign_in(_app(), "ling")
    leader.switch_page("pages/siting.py").run()
    assert not [b for b in leader.button if b.label in ("开始选址", "保存方案", "删除方案")]
    assert "规划人员" in leader.info[0].value
    planner = _sign_in(_app(), "ping")
    planner.switch_page("pages/siting.py").run()
    assert "开始选址" in [b.label for b in planner.button] and "保存方案" in [b.label for b in planner.button]


def _forced_save() -> None:
    """A page handler as the siting page has it, reached by a session whose stored role is out of date."""
    import streamlit as st

    from geo.users import Session
    from ui import auth

    st.session_state["auth_session"] = Session("ping", "planner", 0)
    auth.require("planner", action="scenario_save", target="方案A")
    st.success("saved")


def test_require_refuses_a_forced_action_and_records_it(home):
    """A planner whose role an admin lowered to leader: the handler's check refuses, says why, and records it."""
    UserStore(home).set_role("ping", "leader")
    at = AppTest.from_function(_forced_save, default_timeout=60)
    at.run()
    assert not at.exception and not at.success
    assert [e.value for e in at.error] == ["当前角色（领导）无权执行此操作：保存方案。需要“规划人员”或以上角色。"]
    e = AuditLog(home).entries()[0]
    assert (e.action, e.user, e.role, e.target, e.detail, e.ok) == \
        ("denied", "ping", "leader", "方案A", "scenario_save needs planner", False)


def test_data_page_tabs_by_role_and_admin_manages_users(home):
    staff = _sign_in(_app(), "shi")
    staff.switch_page("pages/data.py").run()
    assert not staff.exception
    assert [t.label for t in staff.tabs] == ["导入图层", "版本记录", "导入模板"]
    leader = _sign_in(_app(), "ling")
    leader.switch_page("pages/data.py").run()
    assert [t.label for t in leader.tabs] == ["版本记录", "导入模板"]
    assert any(c.value.startswith("导入数据与恢复版本需要“工作人员”或以上角色") for c in leader.caption)
    admin = _sign_in(_app(), "guan")
    admin.switch_page("pages/data.py").run()
    assert [t.label for t in admin.tabs] == ["导入图层", "版本记录", "导入模板", "用户管理", "审计日志"]
    admin.text_input(key="admin_new_name").set_value("新人")
    admin.selectbox(key="admin_new_role__zh").set_value("staff")
    admin.text_input(key="admin_new_pw1").set_value("fresh pass 1")
    admin.text_input(key="admin_new_pw2").set_value("fresh pass 1")
    admin.button[[b.label for b in admin.button].index("添加用户")].click().run()
    assert not admin.exception
    assert UserStore(home).get("新人").role == "staff"
    assert "已添加用户 新人（工作人员）。" in [s.value for s in admin.success]
    entry = AuditLog(home).entries(action="user_add")[0]
    assert (entry.user, entry.target, entry.detail) == ("guan", "新人", "role staff")


def test_admin_manages_users_in_english(home, monkeypatch):
    """The English page: the roles are offered by their English labels, kept as codes, and said back in English."""
    # AppTest formats the choices it holds outside a page run, where the language is the default one
    monkeypatch.setattr("i18n.DEFAULT_LANG", "en")
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["lang"] = "en"  # the sidebar's language switch keeps its choice here
    at.run()
    admin = _sign_in(at, "guan")
    admin.switch_page("pages/data.py").run()
    assert not admin.exception, [e.value for e in admin.exception]
    assert [t.label for t in admin.tabs][-2:] == ["Users", "Audit log"]
    new_role = admin.selectbox(key="admin_new_role__en")
    assert new_role.options == ["Leader", "Planner", "Staff", "Administrator"]
    admin.text_input(key="admin_new_name").set_value("newcomer")
    new_role.set_value("planner")
    admin.text_input(key="admin_new_pw1").set_value("fresh pass 1")
    admin.text_input(key="admin_new_pw2").set_value("fresh pass 1")
    admin.button[[b.label for b in admin.button].index("Add a user")].click().run()
    assert not admin.exception, [e.value for e in admin.exception]
    assert UserStore(home).get("newcomer").role == "planner"
    assert "User newcomer (Planner) added." in [s.value for s in admin.success]

    admin.selectbox(key="admin_pick").set_value("ping").run()
    admin.selectbox(key="admin_role_ping__en").set_value("leader")
    admin.button[[b.label for b in admin.button].index("Set role")].click().run()
    assert not admin.exception, [e.value for e in admin.exception]
    assert UserStore(home).get("ping").role == "leader"
    assert "ping is now Leader." in [s.value for s in admin.success]
    entry = AuditLog(home).entries(action="user_role")[0]
    assert (entry.user, entry.target, entry.detail) == ("guan", "ping", "planner -> leader")

def _overdue_phones(name: str) -> list[str]:
    at = _sign_in(_app(), name)
    at.switch_page("pages/cases.py").run()
    at.radio(key="cases_view__zh").set_value("overdue").run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "reporter_phone" in d.value.columns)
    return [p for p in table["reporter_phone"].tolist() if isinstance(p, str) and p]


def test_phones_masked_below_staff_only(home):
    from analysis.cases import case_table_from_dataset, overdue_list
    from geo.dataset import DEMO_PATH, read_dataset

    ds = read_dataset(DEMO_PATH)
    raw = overdue_list(ds.cases, case_table_from_dataset(ds), mask=False)["reporter_phone"].dropna()
    raw = [p for p in raw.tolist() if p]
    leader, staff = _overdue_phones("ling"), _overdue_phones("shi")
    assert len(staff) > 20 and set(staff) <= set(raw) and all(len(p) == 11 and p.isdigit() for p in staff)
    assert leader == [p[:3] + "****" + p[-4:] for p in staff]
