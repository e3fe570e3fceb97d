"""Sign-in in a real browser: signed out every page shows only the sign-in; roles see what they may use;
a forced action is refused and recorded; five wrong passwords lock the account (a new tab too); sign-out works;
two sessions never see each other's choices."""

from __future__ import annotations

import re
import shutil

import pytest

from geo.audit import AuditLog
from geo.storage import open_store
from geo.users import UserStore
from i18n import t
from tests.e2e.conftest import (
    ROOT,
    SCREENS,
    assert_no_exception,
    choose_option,
    map_frame,
    screenshot,
    start_app,
    stop_app,
    wait_for_app,
)

PW = "pass word 1"
PAGES = ("", "coverage", "siting", "cases", "estates", "meeting", "data")


@pytest.fixture(scope="module")
def signin_app(tmp_path_factory):
    """The app on a copy of the demo, with a workspace holding one user per role."""
    base = tmp_path_factory.mktemp("signin")
    home = base / "home"
    data = base / "signin_demo.gpkg"
    shutil.copy(ROOT / "data" / "shifeng_demo.gpkg", data)
    store = UserStore(home)
    for name, role in (("ling", "leader"), ("ping", "planner"), ("shi", "staff"), ("guan", "admin"),
                       ("suo", "leader"), ("xia", "staff")):
        store.add(name, PW, role)
    proc, url = start_app(str(data), env_extra={"GRIDATLAS_HOME": str(home)})
    yield url, home, data
    stop_app(proc)


def sign_in(page, url: str, name: str, password: str = PW, *, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    page.locator('input[type="password"]').wait_for(timeout=60_000)
    page.locator('input[type="text"]').first.fill(name)
    page.locator('input[type="password"]').fill(password)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.wait_for_timeout(500)
    wait_for_app(page)


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
                '.ga-table', '[data-testid="stDownloadButton"]', '[data-testid="stPlotlyChart"]',
                '[data-testid="stVegaLiteChart"]', '[data-testid="stSidebarNav"]'):
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
        if name == "ling":
            assert "选址计算与方案保存需要“规划人员”或以上角色" in page.inner_text("body")
            screenshot(page, "signin_leader_siting")
        page.locator('[data-testid="stSidebarNav"]').get_by_text("数据管理").click()
        page.get_by_role("heading", name="数据管理").wait_for(timeout=60_000)
        wait_for_app(page)
        assert_no_exception(page)
        tabs = [x.strip() for x in page.get_by_role("tab").all_inner_texts()]
        seen[name] = ("开始选址" in buttons, "导入图层" in tabs, "用户管理" in tabs)
        if name == "guan":
            page.get_by_role("tab", name="审计日志").click()
            page.wait_for_timeout(500)
            body = page.inner_text("body")
            shown = re.search(r"显示最近 (\d+) 条，共 (\d+) 条", body)
            assert "导出审计日志（CSV）" in body and shown and int(shown[1]) == len(AuditLog(home).entries()) >= 7
            screenshot(page, "signin_admin_audit")
        # sign-out: back to the form; the page's address no longer shows data
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="退出登录").click()
        page.get_by_role("heading", name="登录", exact=True).wait_for(timeout=60_000)
        wait_for_app(page)
        assert "已退出登录" in page.inner_text("body") and page.locator('[data-testid="stMetric"]').count() == 0
        ctx.close()
    assert seen == {"ling": (False, False, False), "ping": (True, False, False), "shi": (True, True, False),
                    "guan": (True, True, True)}
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
        assert "越权方案" not in [s.name for s in open_store(str(data)).list_scenarios()]
        denied = AuditLog(home).entries(action="denied")[0]
        assert (denied.user, denied.role, denied.target) == ("ping", "leader", "越权方案")
        screenshot(page, "signin_forced_refused")
    finally:
        store.set_role("ping", "planner")
        ctx.close()


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_download_after_the_session_ended_says_why_in_the_page_language(browser, signin_app, lang):
    """A staff member's coverage page shows its Excel button; meanwhile the password is reset (every session of
    the account ends); the click gets no file, is recorded as refused, and says so in the page's language."""
    url, home, _ = signin_app
    store = UserStore(home)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    try:
        sign_in(page, url, "xia", path="coverage")
        if lang == "en":
            page.locator('[data-testid="stSidebar"] [data-testid="stRadio"]').get_by_text("English").click()
            page.wait_for_timeout(500)
            wait_for_app(page)
        button = page.get_by_role("button", name=t("download.xlsx", lang=lang)).first
        button.wait_for(timeout=90_000)
        wait_for_app(page)
        assert_no_exception(page)
        refused_before = len(AuditLog(home).entries(action="denied", user="xia"))
        store.set_password("xia", "a new pass 2")
        downloads = []
        page.on("download", lambda d: downloads.append(d))
        button.click()
        said = page.get_by_text(t("download.refused", lang=lang))
        said.wait_for(timeout=60_000)
        assert "Failed to generate" not in page.inner_text("body")
        assert downloads == []
        refused = AuditLog(home).entries(action="denied", user="xia")
        assert len(refused) == refused_before + 1
        assert (refused[0].detail, refused[0].ok) == ("download needs sign-in", False)
        assert refused[0].target.endswith(".xlsx")
        said.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENS / f"download_refused_{lang}.png"))
    finally:
        store.set_password("xia", PW)
        ctx.close()


def _street_shown(page) -> str:
    """What the sidebar's street box shows (its text and its input's value)."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="街道").first
    return box.evaluate("e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')")


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
    street = "井龙"  # one of the demo's streets
    choose_option(a, side.locator('[data-testid="stSelectbox"]').filter(has_text="街道").first, street)
    a.wait_for_timeout(500)
    wait_for_app(a)
    b.reload()  # a reload is a new session: it must sign in again, and sees nothing of a's choices
    b.locator('input[type="password"]').wait_for(timeout=60_000)
    sign_in(b, url, "shi")
    assert street not in _street_shown(b) and "全部街道" in _street_shown(b)
    assert street in _street_shown(a)
    assert "ling" in a.locator('[data-testid="stSidebar"]').inner_text()
    assert "shi" in b.locator('[data-testid="stSidebar"]').inner_text()
    a_ctx.close()
    b_ctx.close()

