"""The dashboard: its JSON (``/api/v1/overview``), its auth, and the page itself loaded in a
real headless Chromium (selenium + Debian's chromium/chromedriver) against a real master
process.  ``scripts/ensure-chromium.sh`` installs the browser; without it the browser
tests skip (or fail, with ``SILT_REQUIRE_BROWSER=1``).  The screenshot lands in the test's
tmp dir as ``dashboard.png`` and, with ``$SILT_ARTIFACTS`` set, is copied there too.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import siltfs
from siltfs.client.remote import RemoteFileSystem
from siltfs.server import dashboard
from siltfs.worker.blockstore import TierUsage

from .conftest import MasterProcess

STATIC = Path(dashboard.__file__).with_name("static")
XSS_NAME = "<img src=x onerror=alert(1)>.txt"
CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


# no browser: the JSON, the auth and the static files ---------------------------------------
def test_static_files_reference_nothing_external() -> None:
    names = sorted(p.name for p in STATIC.iterdir())
    assert names == ["dashboard.css", "dashboard.html", "dashboard.js"]
    for name in names:
        text = (STATIC / name).read_text()
        assert not re.search(r"https?://", text), name
        assert not re.search(r"(?<![\w.])//[a-z0-9-]+\.[a-z]", text, re.I), name  # //cdn.x
        assert "@import" not in text and "url(" not in text, name
    html = (STATIC / "dashboard.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script src="/dashboard/static/dashboard.js" defer>']  # no inline code
    assert not re.search(r"<[^>]*\son\w+\s*=", html)  # no onclick=... handlers
    js = (STATIC / "dashboard.js").read_text()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js


class _FakeCluster:
    def overview(self) -> list[dict[str, Any]]:
        tiers = [{"tier": "SSD", "used_bytes": 5, "capacity_bytes": 10, "blocks": 1}]
        return [
            {
                "id": "w1",
                "address": "http://h1:1",
                "host": "h1",
                "alive": True,
                "last_heartbeat_age_s": 0.5,
                "tiers": tiers,
            },
            {
                "id": "w2",
                "address": "http://h2:1",
                "host": "h2",
                "alive": True,
                "last_heartbeat_age_s": 1.5,
                "tiers": tiers,
            },
            {
                "id": "w3",
                "address": "http://h3:1",
                "host": "h3",
                "alive": False,
                "last_heartbeat_age_s": 99.0,
                "tiers": tiers,
            },
        ]


class _FakeStore:
    def usage(self) -> list[TierUsage]:
        return [TierUsage("MEM", 100, 40, 2), TierUsage("SSD", 1000, 0, 0)]


class _FakeClusterStore(_FakeStore, _FakeCluster):
    """A store that is itself the cluster view."""


class _FakeMaster:
    """A master whose cluster view (*cluster*, else its *store* if that is one) answers
    ``cluster_overview``; without one it has only ``tier_usage`` of its own store."""

    def __init__(self, cluster: object | None = None, store: _FakeStore | None = None) -> None:
        self._store = store or _FakeStore()
        for view in (cluster, self._store):
            overview = getattr(view, "overview", None)
            if callable(overview):
                self.cluster_overview = overview
                break

    def tier_usage(self) -> list[TierUsage]:
        return self._store.usage()


def test_workers_overview_local_or_cluster() -> None:
    (local,) = dashboard.workers_overview(_FakeMaster())
    assert local["id"] == "local" and local["alive"] and local["last_heartbeat_age_s"] == 0
    assert local["tiers"] == [
        {"tier": "MEM", "used_bytes": 40, "capacity_bytes": 100, "blocks": 2},
        {"tier": "SSD", "used_bytes": 0, "capacity_bytes": 1000, "blocks": 0},
    ]
    workers = dashboard.workers_overview(_FakeMaster(_FakeCluster()))
    assert [w["id"] for w in workers] == ["w1", "w2", "w3"]
    # totals count the live workers only
    assert dashboard.tier_totals(workers) == [
        {"tier": "SSD", "used_bytes": 10, "capacity_bytes": 20, "blocks": 2}
    ]
    # a master whose cluster attribute has no overview() falls back to the local store
    assert dashboard.workers_overview(_FakeMaster(object()))[0]["id"] == "local"
    store_view = dashboard.workers_overview(_FakeMaster(store=_FakeClusterStore()))
    assert [w["id"] for w in store_view] == ["w1", "w2", "w3"]


def test_mount_credentials_are_not_shown() -> None:
    assert dashboard._redact_uri("s3://AKIA:secret@bucket/x") == "s3://***@bucket/x"
    assert dashboard._redact_uri("file:///srv/lake") == "file:///srv/lake"
    assert dashboard._redact_uri("memory://a@b") == "memory://***@b"


# a master in a known state -------------------------------------------------------------------
@dataclass
class Scene:
    master: MasterProcess
    lake_uri: str
    failed_path: str


def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """A master of its own with persisted, cache-only, pinned and failed files, a second
    mount, and one consistency check run (a FAILED_JOB and a GHOST)."""
    root = tmp_path_factory.mktemp("dashboard")
    server = MasterProcess(root / "home").start()
    fs = siltfs.connect(server.url, token=server.token)
    assert isinstance(fs, RemoteFileSystem)
    try:
        fs.mkdir("/data/raw", parents=True)
        fs.write_bytes("/data/raw/persisted.csv", b"a,b\n" * 5000, write_type="CACHE_THROUGH")
        fs.set_attribute("/data/raw/persisted.csv", pinned=True)
        fs.write_bytes("/data/scratch.bin", b"s" * 3000, write_type="MUST_CACHE")
        fs.write_bytes("/data/" + XSS_NAME, b"not html", write_type="MUST_CACHE")
        # a mount whose storage goes away: uploads under it fail, the job ends FAILED
        lake = root / "lake"
        lake.mkdir()
        fs.mount("/lake", lake.as_uri())
        shutil.rmtree(lake)
        lake.write_text("not a directory any more")
        failed = "/lake/stuck.bin"
        fs.write_bytes(failed, b"f" * 2048)  # ASYNC_THROUGH
        _wait_for(lambda: fs.jobs("FAILED"), 20, "the persist job to fail")
        # a ghost: written into the root UFS behind siltfs's back, after / was listed
        fs.ls("/")
        (server.home / "ufs" / "ghost.txt").write_text("boo")
        report = fs.check_consistency("/")
        kinds = {d.kind for d in report.divergences}
        assert {"FAILED_JOB", "GHOST"} <= kinds, report.to_dict()
        yield Scene(server, lake.as_uri(), failed)
    finally:
        fs.close()
        server.stop()


def test_overview_needs_the_token_and_answers_everything(scene: Scene) -> None:
    url = scene.master.url
    with httpx.Client(base_url=url, timeout=30) as anon:
        r = anon.get("/api/v1/overview")
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
        bad = anon.get("/api/v1/overview", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        page = anon.get("/dashboard")  # the page is open: it holds no data
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.text == (STATIC / "dashboard.html").read_text()
        for name, media in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
            asset = anon.get("/dashboard/static/" + name)
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
        assert anon.get("/dashboard/static/../api.py").status_code == 404
        assert anon.get("/dashboard/static/secret.js").json()["code"] == "not_found"
        data = anon.get("/api/v1/overview", headers=scene.master.auth()).json()
    assert data["version"] == siltfs.__version__ and data["uptime_s"] > 0
    (worker,) = data["workers"]
    assert worker["id"] == "local" and worker["alive"]
    tiers = {t["tier"]: t for t in data["tiers"]}
    assert set(tiers) == {"MEM", "SSD"}
    assert tiers["SSD"]["capacity_bytes"] > 0 and sum(t["blocks"] for t in tiers.values()) >= 4
    mounts = {m["path"]: m for m in data["mounts"]}
    assert mounts["/lake"]["uri"] == scene.lake_uri and "/" in mounts
    queue = data["queue"]
    assert queue["counts"] == {"FAILED": 1, "RUNNING": 0, "PENDING": 0}
    (job,) = queue["jobs"]
    assert job["path"] == scene.failed_path and job["state"] == "FAILED"
    assert job["attempts"] == 2 and "Not a directory" in job["last_error"] and job["age_s"] > 0
    check = data["consistency"]
    assert check["path"] == "/" and not check["consistent"]
    assert check["by_kind"]["FAILED_JOB"] == 1 and check["by_kind"]["GHOST"] == 1
    assert check["divergences_total"] == len(check["divergences"]) >= 2
    assert check["age_s"] >= 0 and check["finished_ms"] >= check["started_ms"] > 0


# the page in headless Chromium ---------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [n for n, p in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not p]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        reason = f"no {', '.join(missing)}: run scripts/ensure-chromium.sh"
        if os.environ.get("SILT_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--disable-gpu",
        "--no-first-run",
    ):
        options.add_argument(arg)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_OFFLINE", "true")  # Selenium Manager must not download anything
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Callable[[Any], Any], timeout: float = 20) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    ).until(condition)


def _wait_state(driver: Any, state: str) -> None:
    """The page marks <body data-state>: "login", or "ready" once data is rendered."""
    _wait(driver, lambda d: d.execute_script("return document.body.dataset.state") == state)


def _text(driver: Any, css: str) -> str:
    """innerText of the first match, read in one go (the page re-renders every few s)."""
    js = "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;"
    return str(driver.execute_script(js, css) or "")


def _wait_text(driver: Any, css: str, *needles: str) -> str:
    _wait(driver, lambda d: all(n in _text(d, css) for n in needles))
    return _text(driver, css)


def _listing(driver: Any) -> dict[str, dict[str, str]]:
    """name cell text -> {state, row text, img count} of the namespace browser's rows."""
    js = """
      return Array.from(document.querySelectorAll('#listing tbody tr.entry')).map(r => ({
        name: r.querySelector('td.name > *').textContent, state: r.dataset.state,
        text: r.innerText, imgs: String(r.querySelectorAll('img').length)}));"""
    return {row["name"]: row for row in driver.execute_script(js)}


def _click_dir(driver: Any, name: str) -> None:
    from selenium.webdriver.common.by import By

    xpath = f"//table[@id='listing']//button[normalize-space(.)='{name}']"

    def click(d: Any) -> bool:
        d.find_element(By.XPATH, xpath).click()
        return True

    _wait(driver, click)


def _screenshot(driver: Any, target: Path) -> Path:
    """The whole page (not just the viewport), via the DevTools protocol."""
    driver.execute_script("window.scrollTo(0, 0)")
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    target.write_bytes(base64.b64decode(shot["data"]))
    artifacts = os.environ.get("SILT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(target, Path(artifacts) / target.name)
    return target


def test_dashboard_in_a_real_browser(scene: Scene, browser: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{scene.master.url}/dashboard#token={scene.master.token}")
    _wait_state(driver, "ready")
    # the token left the address bar and lives in this tab's session storage only
    assert "token" not in driver.current_url
    stored = driver.execute_script("return sessionStorage.getItem('siltfs.dashboard.token')")
    assert stored == scene.master.token
    assert _text(driver, "#meta").startswith("v" + siltfs.__version__)

    # capacity per tier and per worker
    mem = _wait_text(driver, "#tiers [data-tier=MEM]", "MEM", "% used", "GiB")
    ssd = _wait_text(driver, "#tiers [data-tier=SSD]", "SSD", "% used", "GiB")
    assert re.search(r"\d+ blocks?", mem + ssd)
    assert "local" in _wait_text(driver, "#workers tbody", "alive", "MEM", "SSD")

    # mounts
    mounts = _wait_text(driver, "#mounts tbody", "/lake", scene.lake_uri)
    assert "read-write" in mounts

    # the persist queue: one failed job with its error
    _wait_text(driver, "#queue-counts [data-state=FAILED] .count", "1")
    assert _text(driver, "#queue-counts [data-state=PENDING] .count") == "0"
    job = _wait_text(driver, "#jobs tbody tr.job.failed", scene.failed_path, "FAILED")
    assert "Not a directory" in job and "write failed" in job

    # the last consistency check
    summary = _wait_text(driver, "#check-summary", "divergent", "entries")
    assert "check of" in summary
    assert _text(driver, "#check-kinds [data-kind=FAILED_JOB] .count") == "1"
    assert _text(driver, "#check-kinds [data-kind=GHOST] .count") == "1"
    assert _text(driver, "#check-kinds [data-kind=LOST] .count") == "0"
    divergences = _wait_text(driver, "#divergences tbody", "FAILED_JOB", "GHOST")
    assert scene.failed_path in divergences and "/ghost.txt" in divergences

    # the namespace browser: / -> /data -> /data/raw -> back via the breadcrumbs
    _wait(driver, lambda d: {"data/", "lake/"} <= set(_listing(d)))
    _click_dir(driver, "data/")
    _wait(driver, lambda d: XSS_NAME in _listing(d))
    rows = _listing(driver)
    assert set(rows) == {"raw/", "scratch.bin", XSS_NAME}
    assert rows["scratch.bin"]["state"] == "NOT_PERSISTED"
    assert "NOT_PERSISTED" in rows["scratch.bin"]["text"] and "100 %" in rows["scratch.bin"]["text"]
    # the hostile name is text, not markup: no <img>, no alert
    assert rows[XSS_NAME]["imgs"] == "0" and rows[XSS_NAME]["state"] == "NOT_PERSISTED"
    assert not driver.find_elements(By.CSS_SELECTOR, "main img")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - the access itself is the check
    assert "path=%2Fdata" in driver.current_url  # where we are survives a reload
    data_shot = _screenshot(driver, tmp_path / "dashboard.png")
    assert data_shot.read_bytes().startswith(b"\x89PNG")

    _click_dir(driver, "raw/")
    _wait(driver, lambda d: "persisted.csv" in _listing(d))
    row = _listing(driver)["persisted.csv"]
    assert row["state"] == "PERSISTED" and "pinned" in row["text"] and "100 %" in row["text"]
    assert "19.5 KiB" in row["text"]
    # states are colour-coded
    colour = "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor"
    persisted_bg = driver.execute_script(colour, "#listing tr[data-state=PERSISTED] .badge.state")
    driver.find_element(By.XPATH, "//nav[@id='crumbs']/button[normalize-space(.)='/']").click()
    _wait(driver, lambda d: "lake/" in _listing(d))
    _click_dir(driver, "lake/")
    _wait(driver, lambda d: "stuck.bin" in _listing(d))
    stuck = _listing(driver)["stuck.bin"]
    assert stuck["state"] == "TO_BE_PERSISTED"
    pending = "#listing tr[data-state=TO_BE_PERSISTED] .badge.state"
    pending_bg = driver.execute_script(colour, pending)
    assert persisted_bg != pending_bg
    assert data_shot.stat().st_size > 10_000


def test_dashboard_without_a_token_says_how_to_get_one(scene: Scene, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{scene.master.url}/dashboard")
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()
    _wait_state(driver, "login")
    assert driver.find_element(By.ID, "login").is_displayed()
    assert not driver.find_element(By.ID, "main").is_displayed()
    message = _text(driver, "#login")
    assert "token" in message and "cat " in message and "/token" in message
    assert f"{scene.master.url}/dashboard#token=TOKEN" in message

    # a wrong token is refused with a message, the right one opens the dashboard
    driver.get(f"{scene.master.url}/dashboard#token=wrong")
    _wait_text(driver, "#login-error", "refused")
    assert driver.execute_script("return sessionStorage.length") == 0
    field = driver.find_element(By.ID, "token-input")
    field.send_keys(scene.master.token)
    driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
    _wait_state(driver, "ready")
    assert driver.find_element(By.ID, "main").is_displayed()
    _wait_text(driver, "#jobs tbody", scene.failed_path)
