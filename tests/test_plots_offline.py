"""`dvc plots show` / `dvc plots diff` pages render with no network, in headless Chromium.

The project's .dvc/config points DVC at .dvc/html/offline.html, which carries Vega, Vega-Lite and
vega-embed inside. DVC's own page, opened in the same offline browser, renders nothing: that is
the control showing the network really is cut.
"""

import contextlib
import json
import re

import pytest
from dvc_render.html import PAGE_HTML
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.wait import WebDriverWait

from helpers.browser import chromium, console_errors, needs_chromium, screenshot
from helpers.e2e import Project

pytestmark = [pytest.mark.e2e, pytest.mark.browser, needs_chromium]

# How many charts (vega draws one canvas.marks or svg.marks) each vega plot's <div> holds.
# vegaEmbed replaces the div's content (its script included), so the ids come from the source.
RENDERED = """
return arguments[0].map(id => Array.from(document.getElementById(id).querySelectorAll('canvas.marks, svg.marks'))
  .filter(e => e.getBoundingClientRect().width > 0).length);
"""
VEGA = 4 * 5 + 2  # per variant: 4 dvclive curves and its confusion matrix; the 2 data bar charts
IMAGES = "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0);"


@pytest.fixture(scope="module")
def project(baseline, tmp_path_factory):
    return Project.copy(baseline, tmp_path_factory.mktemp("plots"))


def plot_kinds(project) -> list[str]:
    shown = json.loads(project.dvc("plots", "show", "--json").stdout)["data"]
    return [entry["type"] for entries in shown.values() for entry in entries]


def open_page(driver, page, wait: float = 20) -> tuple[list[int], list[int]]:
    """Load a file:// page; once every vega plot has drawn (or `wait` s passed), what is on it."""
    ids = re.findall(r"vegaEmbed\('#([^']+)'", page.read_text())
    driver.get(page.as_uri())
    # The control page never renders: on timeout the asserts below say what is missing.
    with contextlib.suppress(TimeoutException):
        WebDriverWait(driver, wait).until(
            lambda d: all(n >= 1 for n in d.execute_script(RENDERED, ids))
        )
    return driver.execute_script(RENDERED, ids), driver.execute_script(IMAGES)


def test_plots_show_renders_every_plot_offline(project, tmp_path):
    kinds = plot_kinds(project)
    project.dvc("plots", "show", "-o", str(tmp_path / "show"))
    page = tmp_path / "show" / "index.html"
    assert "cdn.jsdelivr" not in page.read_text()
    with chromium(offline=True) as driver:
        vega, images = open_page(driver, page)
        errors = console_errors(driver)
        screenshot(driver, tmp_path / "show.png")
    assert len(vega) == kinds.count("vega") == VEGA
    assert all(n == 1 for n in vega), vega
    assert len(images) == kinds.count("image") and all(w > 0 for w in images), images
    assert errors == []


def test_plots_diff_renders_offline(project, tmp_path):
    project.dvc("plots", "diff", "HEAD", "-o", str(tmp_path / "diff"))
    with chromium(offline=True) as driver:
        vega, _ = open_page(driver, tmp_path / "diff" / "index.html")
        errors = console_errors(driver)
    assert len(vega) == VEGA and all(n == 1 for n in vega), vega
    assert errors == []


def test_dvc_default_page_is_blank_offline(project, tmp_path):
    """The control: DVC's CDN page in the same browser draws nothing and logs the failure."""
    default = tmp_path / "default.html"
    default.write_text(PAGE_HTML)
    project.dvc("plots", "show", "--html-template", str(default), "-o", str(tmp_path / "cdn"))
    assert "cdn.jsdelivr" in (tmp_path / "cdn" / "index.html").read_text()
    with chromium(offline=True) as driver:
        vega, _ = open_page(driver, tmp_path / "cdn" / "index.html", wait=3)  # it never will
        errors = console_errors(driver)
    assert vega == [0] * VEGA
    assert any("vegaEmbed is not defined" in e for e in errors), errors
