"""Sign-in in a real browser: signed out every page shows only the sign-in; roles see what they may use;
a forced action is refused and recorded; five wrong passwords lock the account (a new tab too); sign-out works;
two sessions never see each other's choices."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from geo.audit import AuditLog
from geo.scenarios import list_scenarios
from geo.users import UserStore
from tests.e2e.conftest import ROOT, assert_no_exception, map_frame, screenshot, start_app, wait_for_app

PW = "pass word 1"
PAGES = ("", "coverage", "siting", "cases", "admin")


@pytest.fixture(scope="module")
def signin_app(tmp_path_factory):
    """The app on a copy of the demo, with a workspace holding one user per role."""
    base = tmp_path_factory.mktemp("signin")
    home = base / "home"
    data = base / "signin_demo.gpkg"
    shutil.copy(ROOT / "data" / "shifeng_demo.gpkg", data)
    store = UserStore(home)
    for name, role in (("ling", "leader"), ("ping", "planner"), ("shi", "staff"), ("guan", "admin"),
                       ("suo", "leader")):
        store.add(name, PW, role)
    proc, url = start_app(str(data), env_extra={"GRIDATLAS_HOME": str(home)})
    yield url, home, data
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def sign_in(page, url: str, name: str, password: str = PW, *, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    page.locator('input[type="password"]').wait_for(timeout=60_000)
    page.locator('input[type="text"]').first.fill(name)
    page.locator('input[type="password"]').fill(password)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.wait_for_timeout(500)
    wait_for_app(page)


def nav_titles(page) -> list[str]:
    return [t.strip() for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


@pytest.mark.e2e
@pytest.mark.parametrize("path", PAGES)
def test_signed_out_every_page_shows_only_the_sign_in(offline_page, signin_app, path):
    url, _, _ = signin_app
    page = offline_page
    page.goto(f"{url}/{path}")
    page.locator('input[type="password"]').wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text().strip() == "登录"
    for css in ('[data-testid="stMetric"]', 'iframe[title="streamlit_folium.st_folium"]', '[data-testid="stDataFrame"]',
                '[data-testid="stDownloadButton"]', '[data-testid="stPlotlyChart"]', '[data-testid="stSidebarNav"]'):
        assert page.locator(css).count() == 0, css
    assert "请先登录" in page.locator('[data-testid="stSidebar"]').inner_text()
    if path == "":
        screenshot(page, "signin_form")


@pytest.mark.e2e
def test_roles_see_exactly_their_controls_and_sign_out(browser, signin_app):
    url, home, _ = signin_app
    seen = {}
    for name in ("ling", "ping", "shi", "guan"):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page = ctx.new_page()
        sign_in(page, url, name, path="siting")
        page.get_by_role("heading", name=re.compile("选址规划")).wait_for(timeout=60_000)
        wait_for_app(page)
        assert_no_exception(page)
        buttons = set(page.get_by_role("button").all_inner_texts())
        seen[name] = ("开始选址" in buttons, "用户与审计" in nav_titles(page))
        if name == "ling":
            assert "选址计算与方案保存需要“规划人员”或以上角色" in page.inner_text("body")
            screenshot(page, "signin_leader_siting")
        if name == "guan":
            page.locator('[data-testid="stSidebarNav"]').get_by_text("用户与审计").click()
            page.get_by_role("heading", name="用户与审计日志").wait_for(timeout=60_000)
            wait_for_app(page)
            assert_no_exception(page)
            body = page.inner_text("body")
            assert "审计日志" in body and "ping" in body
            screenshot(page, "signin_admin_page")
        # sign-out: back to the form; the page's address no longer shows data
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="退出登录").click()
        page.locator('input[type="password"]').wait_for(timeout=60_000)
        wait_for_app(page)
        assert "已退出登录" in page.inner_text("body") and page.locator('[data-testid="stMetric"]').count() == 0
        ctx.close()
    assert seen == {"ling": (False, False), "ping": (True, False), "shi": (True, False), "guan": (True, True)}
    entries = AuditLog(home).entries()
    for name in ("ling", "ping", "shi", "guan"):
        assert [e.action for e in entries if e.user == name][:2] == ["sign_out", "sign_in"], name


@pytest.mark.e2e
def test_five_wrong_passwords_lock_even_in_a_new_tab(browser, signin_app):
    url, home, _ = signin_app
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    for i in range(5):
        sign_in(page, url, "suo", f"wrong {i} password")
    assert "已锁定" in page.locator('[data-testid="stAlert"]').first.inner_text()
    ctx.close()
    fresh = browser.new_context(locale="zh-CN")  # a new tab (even a new browser profile): the lock holds
    page = fresh.new_page()
    sign_in(page, url, "suo")
    assert "已锁定" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert page.locator('[data-testid="stMetric"]').count() == 0
    screenshot(page, "signin_locked")
    fresh.close()
    failed = [e for e in AuditLog(home).entries(user="suo") if e.action == "sign_in_failed"]
    assert len(failed) == 6 and [e.detail for e in failed][:2] == ["auth.locked", "auth.locked"]
    UserStore(home).unlock("suo")


@pytest.mark.e2e
def test_forced_save_after_role_lowered_is_refused_and_recorded(browser, signin_app):
    """A planner's page still shows Save; an admin lowers the role meanwhile; the click is refused on the server."""
    url, home, data = signin_app
    store = UserStore(home)
    store.set_role("ping", "planner")
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    try:
        sign_in(page, url, "ping", path="siting")
        page.get_by_role("button", name="开始选址").click()
        page.wait_for_timeout(500)
        wait_for_app(page, timeout_ms=120_000)
        map_frame(page)
        page.get_by_label("方案名称").fill("越权方案")
        store.set_role("ping", "leader")
        page.get_by_role("button", name="保存方案").click()
        page.get_by_text("当前角色（领导）无权执行此操作：保存方案").wait_for(timeout=60_000)
        assert "越权方案" not in [s.name for s in list_scenarios(str(data))]
        denied = AuditLog(home).entries(action="denied")[0]
        assert (denied.user, denied.role, denied.target) == ("ping", "leader", "越权方案")
        screenshot(page, "signin_forced_refused")
    finally:
        store.set_role("ping", "planner")
        ctx.close()


@pytest.mark.e2e
def test_two_sessions_keep_their_own_choices(browser, signin_app):
    """Two people at once: one's street and page never show up in the other's session."""
    url, _, _ = signin_app
    a_ctx = browser.new_context(locale="zh-CN")
    b_ctx = browser.new_context(locale="zh-CN")
    a, b = a_ctx.new_page(), b_ctx.new_page()
    sign_in(a, url, "ling")
    sign_in(b, url, "shi")
    side = a.locator('[data-testid="stSidebar"]')
    side.locator('[data-testid="stSelectbox"]').filter(has_text="街道").first.click()
    option = a.locator('[role="option"]').nth(1)
    street = option.inner_text().strip()
    option.click()
    a.wait_for_timeout(500)
    wait_for_app(a)
    b.reload()  # a reload is a new session: it must sign in again, and sees nothing of a's choices
    b.locator('input[type="password"]').wait_for(timeout=60_000)
    sign_in(b, url, "shi")
    b_street = b.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="街道").first
    assert street not in b_street.inner_text() and "全部街道" in b_street.inner_text()
    a_street = a.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="街道").first
    assert street in a_street.inner_text()
    assert "ling" in a.locator('[data-testid="stSidebar"]').inner_text()
    assert "shi" in b.locator('[data-testid="stSidebar"]').inner_text()
    a_ctx.close()
    b_ctx.close()

