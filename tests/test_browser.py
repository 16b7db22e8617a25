"""What a person sees in a browser: the Prefect UI that `pipeline serve` starts, and report.html.

Headless Chromium from Debian's `chromium` package (.ci/run installs it), driven by Playwright's
Python package (`executable_path`; Playwright's own browser download is never used). Each
page gets a fresh browser context in which any request to a host other than 127.0.0.1 is
aborted, so nothing leaves the machine. One `serve` with its own server, and one run of
the deployment started through the API as `prefect deployment run` does, serve every test.
Screenshots go to the module's temporary folder (shots/).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from conftest import SEEDS
from test_serve import running_pipeline, wait_for

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Run as root, Chromium needs --no-sandbox; the rest keep it from calling outside hosts.
# Playwright gives each launch a fresh --user-data-dir of its own (a temporary profile).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PAGE_TIMEOUT_MS = 60_000  # the UI's scripts on 2 busy cores
# What the UI shows when it cannot reach its API (v1, v2's dashboard; v2's other pages).
NO_API = ("Can't connect to Server API", "Unable to connect to Prefect server")
UIS = {"v1": "", "v2": "/v2"}  # the printed address opens v2 (Prefect's default); v1 is a click away
# A quarantined input with a long name: its row in report.html must wrap on a phone.
LONG_NAME = "press_release_" + "0123456789abcdef" * 3 + "_final.html"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver; .ci/run does), or set CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("file", "data", "blob", "about") or parts.hostname in ("127.0.0.1", "localhost")


@contextmanager
def opened(browser, width: int = 1400, height: int = 1000) -> Iterator[tuple[object, list[str], list[str]]]:
    """(page, every request's URL, the outside ones that were aborted) in a fresh context."""
    context = browser.new_context(viewport={"width": width, "height": height})
    requested: list[str] = []
    blocked: list[str] = []

    def block(route) -> None:
        blocked.append(route.request.url)
        route.abort()

    context.route(lambda url: not is_local(url), block)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.on("request", lambda request: requested.append(request.url))
    try:
        yield page, requested, blocked
    finally:
        context.close()


# --------------------------------------------------------------------------- serve's UI


@dataclass(frozen=True)
class Served:
    ui_url: str
    api_url: str
    seeds: Path
    data: Path
    flow_run_id: str
    flow_run_name: str
    summary_artifact_id: str
    shots: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """`pipeline serve --interval 3600` and one completed run of its deployment, started now."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pipeline.orchestration.artifacts import SUMMARY_KEY

    root = tmp_path_factory.mktemp("browser")
    seeds, data = shutil.copytree(SEEDS, root / "seeds"), root / "data"
    (seeds / LONG_NAME).write_bytes(bytes(range(256)) * 16)  # quarantined: binary
    args = ["serve", "--interval", "3600", "--seeds", str(seeds), "--data", str(data)]
    with running_pipeline(args, root, "serve") as (proc, log_path):
        wait_for(lambda: "waiting for scheduled runs" in log_path.read_text(), "the deployment", proc, log_path,
                 timeout_s=150)
        ui_url = re.search(r"; UI at (http://127\.0\.0\.1:\d+)\n", log_path.read_text()).group(1)
        api_url = f"{ui_url}/api"
        with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name("news-corpus/scheduled")
            flow_run = client.create_flow_run_from_deployment(deployment.id)  # `prefect deployment run`
            # The run's end as serve reports it: its logs and artifacts are sent by then.
            wait_for(lambda: ": Completed" in log_path.read_text(), "completed run", proc, log_path, timeout_s=240)
            flow_run = client.read_flow_run(flow_run.id)
            assert flow_run.state.is_completed(), flow_run.state
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id])))
        (summary,) = [a for a in artifacts if a.key == SUMMARY_KEY]
        shots = root / "shots"
        shots.mkdir()
        yield Served(ui_url, api_url, seeds, data, str(flow_run.id), flow_run.name, str(summary.id), shots)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def show(page, url: str, *texts: str, shot: Path) -> str:
    """Open url, wait until every text is on the page, screenshot it; the page's text."""
    page.goto(url)
    try:
        for text in texts:
            page.get_by_text(text).first.wait_for(state="visible")
    except Exception as error:  # Playwright's timeout: say what the page showed instead
        page.screenshot(path=str(shot))
        raise AssertionError(f"{url}: {text!r} never showed; screenshot {shot}; the page's text:\n"
                             f"{page.inner_text('body')[:3000]}") from error
    page.screenshot(path=str(shot))
    body = page.inner_text("body")
    for message in NO_API:
        assert message not in body, f"{url}: {body[:2000]}"
    return body


def test_the_servers_ui_settings_name_its_own_api(served):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{served.ui_url}/ui-settings", timeout=10) as response:
        settings = json.load(response)
    assert settings["api_url"] == served.api_url  # not the default port's http://127.0.0.1:4200/api


def test_the_printed_address_opens_a_dashboard_that_reaches_the_api(browser, served):
    # The dashboard's own query for the past day's flow runs must answer with the run. (Its
    # figures are not read: Prefect 3.8.8's v2 dashboard can show 0 while that query returns
    # the run, so the text would test Prefect's rendering, not this project.)
    with opened(browser) as (page, requested, blocked):
        answers: list[str] = []
        page.on("response", lambda response: answers.append(response.text())
                if response.url == f"{served.api_url}/flow_runs/filter" and response.ok else None)
        show(page, served.ui_url, "Flow Runs", "Task Runs", shot=served.shots / "dashboard.png")
        for _ in range(60):
            if any(served.flow_run_id in answer for answer in answers):
                break
            page.wait_for_timeout(1000)
        assert any(served.flow_run_id in answer for answer in answers), answers
        assert not [url for url in requested if ":4200/" in url]


@pytest.mark.parametrize("ui", UIS)
def test_runs_page_lists_the_news_corpus_run(browser, served, ui):
    with opened(browser) as (page, _, _):
        body = show(page, f"{served.ui_url}{UIS[ui]}/runs", served.flow_run_name, "news-corpus",
                    shot=served.shots / f"runs-{ui}.png")
    assert "Completed" in body


@pytest.mark.parametrize("ui", UIS)
def test_run_page_shows_the_runs_logs(browser, served, ui):
    n_inputs = sum(1 for path in served.seeds.rglob("*") if path.is_file())
    with opened(browser) as (page, _, _):
        body = show(page, f"{served.ui_url}{UIS[ui]}/runs/flow-run/{served.flow_run_id}", served.flow_run_name,
                    f"found {n_inputs} input files under {served.seeds}", "document checks:",
                    shot=served.shots / f"run-{ui}.png")
    assert "news-corpus" in body and "Completed" in body


@pytest.mark.parametrize("ui", UIS)
def test_corpus_summary_artifact_opens(browser, served, ui):
    version_id = json.loads((served.data / "latest" / "manifest.json").read_text())["version_id"]
    with opened(browser) as (page, _, _):
        show(page, f"{served.ui_url}{UIS[ui]}/artifacts", "corpus-summary", "corpus-expectations",
             shot=served.shots / f"artifacts-{ui}.png")
        body = show(page, f"{served.ui_url}{UIS[ui]}/artifacts/artifact/{served.summary_artifact_id}",
                    f"Corpus version {version_id}", "Most mentioned entities", "Kazakhstan",
                    shot=served.shots / f"artifact-{ui}.png")
    assert "canonical entities" in body and "binary_file" in body  # the markdown's tables, rendered


# --------------------------------------------------------------------------- report.html

# Elements whose box reaches past the page's right or left edge (every <details> opened).
_TOO_WIDE_JS = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const width = document.documentElement.clientWidth, wide = [];
  for (const el of document.querySelectorAll('body, body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && (box.right > width + 0.5 || box.left < -0.5))
      wide.push(`${el.tagName} ${Math.round(box.left)}..${Math.round(box.right)}: `
                + (el.textContent || '').trim().slice(0, 60));
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, wide};
}"""

# Per chart: its title, how many bars it has and how many a person sees (drawn, filled, not hidden).
_BARS_JS = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const bars = [...svg.querySelectorAll('rect.bar')];
  const seen = bars.filter(bar => {
    const box = bar.getBoundingClientRect(), style = getComputedStyle(bar);
    return box.width >= 1 && box.height >= 1 && style.visibility === 'visible' && style.display !== 'none'
      && style.fill !== 'none' && style.fill !== 'rgba(0, 0, 0, 0)' && Number(style.fillOpacity) > 0;
  });
  return {title: svg.getAttribute('aria-label'), bars: bars.length, seen: seen.length};
})"""


@pytest.fixture(scope="module")
def report(served) -> Path:
    return (served.data / "latest" / "report.html").resolve()


def test_report_renders_with_no_request_leaving_the_page(browser, report):
    with opened(browser) as (page, requested, blocked):
        page.goto(report.as_uri())
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("Corpus version ")
    assert requested == [report.as_uri()] and blocked == []


def test_every_report_chart_has_visible_bars(browser, report):
    with opened(browser) as (page, _, _):
        page.goto(report.as_uri())
        charts = page.evaluate(_BARS_JS)
    assert [c["title"] for c in charts] == [
        "Words per article", "Boilerplate share of the page (boilerplate_ratio)", "Articles by language",
        "Paragraphs by language", "Most mentioned entities (top 20)"]
    for chart in charts:
        assert chart["seen"] >= 1, chart
    assert charts[-1]["seen"] == 20  # every entity has mentions


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("width", [1400, 480])
def test_report_has_no_element_wider_than_the_page(browser, served, report, width):
    shot = served.shots / f"report-{width}.png"
    with opened(browser, width=width, height=900) as (page, _, _):
        page.goto(report.as_uri())
        found = page.evaluate(_TOO_WIDE_JS)
        page.screenshot(path=str(shot), full_page=True)
        text = page.inner_text("body")
    assert found["wide"] == [] and found["scrollWidth"] <= found["width"], found
    assert LONG_NAME in text  # the long file name is there, wrapped
    assert png_size(shot)[0] == width  # the full-page screenshot is no wider than the screen
