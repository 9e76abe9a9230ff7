"""The built site as a person uses it: opened from the file system in headless Chromium, no network.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the ``playwright`` Python package; skipped
with a reason when either is missing. Screenshots land in pytest's tmp folder (printed with -s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from repbench.leaderboard import build_site, samples

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
XSS = "<script>alert(1)</script>"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="chromium is not installed: apt-get update && apt-get install -y chromium"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("subs")
    rng = np.random.default_rng(21)
    samples.make_submission(
        rng,
        "DeepLoc (quick)",
        "deeploc",
        folder=folder,
        skill=0.9,
        embedding=True,
        embedding_rows=150,
        epochs=5,
        description="A CNN trained on single cells.",
    )
    samples.make_submission(
        rng, "Paired cell inpainting", "pci", folder=folder, skill=0.6, embedding=True, embedding_rows=150
    )
    samples.make_submission(rng, XSS, "xss", folder=folder, skill=0.4, description=XSS)
    samples.make_submission(
        rng, "Random", "random", folder=folder, reference=True, skill=0.0, embedding=True, embedding_rows=150
    )
    samples.make_submission(rng, "Synthetic smoke", "smoke", folder=folder, dataset="synthetic", skill=1.0)
    out = tmp_path_factory.mktemp("out") / "site"
    build_site(folder, out)
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page that records dialogs (a script that ran), console errors and every URL it asked for."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.dialogs, tab.errors, tab.requests = [], [], []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("request", lambda request: tab.requests.append(request.url))
    yield tab
    context.close()


MAIN = "yeast-v1-main"


def _column(tab, section: str) -> list[str]:
    return [row.get_attribute("data-slug") for row in tab.query_selector_all(f"#{section} tbody tr")]


def test_index_shows_every_row_and_sorts_on_click(site, page, tmp_path):
    page.goto((site / "index.html").as_uri())
    assert sorted(_column(page, MAIN)) == ["deeploc", "pci", "random", "xss"]
    assert _column(page, "yeast-v1-synthetic") == ["smoke"]
    assert page.locator(f"#{MAIN} tr.reference").count() == 1

    header = page.locator(f"#{MAIN} th[data-col='3'] button")  # GO-CC mAP

    def values():
        cells = page.eval_on_selector_all(
            f"#{MAIN} tbody tr td:nth-child(4)", "cells => cells.map(c => c.dataset.value)"
        )
        return [float(v) for v in cells]

    header.click()
    assert values() == sorted(values(), reverse=True)
    assert page.locator(f"#{MAIN} th[data-col='3']").get_attribute("aria-sort") == "descending"
    header.click()
    assert values() == sorted(values())
    page.locator(f"#{MAIN} th[data-col='0'] button").click()  # by name, A to Z
    names = page.eval_on_selector_all(f"#{MAIN} tbody td.name a", "links => links.map(a => a.textContent)")
    assert names == sorted(names, key=str.lower)

    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
    print("screenshot:", tmp_path / "index.png")
    assert all(url.startswith("file://") for url in page.requests), page.requests
    assert page.errors == [] and page.dialogs == []


def test_rank_marks_and_the_ap_comparison_on_the_index(site, page, tmp_path):
    page.goto((site / "index.html").as_uri())
    legend = page.locator("p.legend-line").inner_text()
    assert "95% interval" in legend and "indistinguishable from the leader" in legend and "paired" in legend
    assert page.locator("nav.sets a[href='#yeast-v1']").inner_text() == "yeast-v1"
    # The three rows with tables are ranked: one overall leader, intervals shown; the others say "not ranked".
    ranked = {
        slug: page.locator(f"#{MAIN} tr[data-slug='{slug}'] td.rank").inner_text()
        for slug in ("deeploc", "pci", "random", "xss")
    }
    assert sum("★" in text for text in ranked.values()) == 1
    for slug in ("deeploc", "pci", "random"):
        assert "–" in ranked[slug] and "not ranked" not in ranked[slug], ranked
    assert "not ranked" in ranked["xss"]
    # Ranking by a click: ranks sort 1 first.
    page.locator(f"#{MAIN} th[data-col='1'] button").click()
    order = page.eval_on_selector_all(f"#{MAIN} tbody tr td.rank", "cells => cells.map(c => c.dataset.value)")
    numbers = [float(v) for v in order if v]
    assert numbers == sorted(numbers) and order[-1] == ""
    # Alone in its section: "only row", no star.
    smoke = page.locator("#yeast-v1-synthetic tr[data-slug='smoke']").inner_text()
    assert "only row" in smoke and "★" not in smoke and "≈" not in smoke
    # The paper's AP beside ours.
    comparison = page.locator("table.ap-comparison")
    assert comparison.locator("tr[data-slug='deeploc']").count() == 1
    assert comparison.locator("tr.paper-row").count() == 4
    comparison.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "ranks.png"), full_page=True)
    print("screenshot:", tmp_path / "ranks.png")
    assert page.errors == []


def test_submission_page_shows_its_pictures(site, page, tmp_path):
    page.goto((site / "s" / "deeploc.html").as_uri())
    assert page.locator("h1").inner_text() == "DeepLoc (quick)"
    pictures = page.locator("figure.plot svg")
    assert pictures.count() == 3  # precision-recall, t-SNE map, training trajectory
    for i in range(3):
        box = pictures.nth(i).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150
    page.screenshot(path=str(tmp_path / "submission.png"), full_page=True)
    print("screenshot:", tmp_path / "submission.png")
    assert page.errors == [] and all(url.startswith("file://") for url in page.requests)


def test_hostile_name_is_text_and_runs_nothing(site, page):
    page.goto((site / "index.html").as_uri())
    link = page.locator(f"#{MAIN} a[href='s/xss.html']")
    assert link.inner_text() == XSS
    link.click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == XSS
    assert page.locator("p.description").inner_text() == XSS
    assert page.dialogs == []
    # The only scripts on the page are the site's own sort.js.
    sources = page.eval_on_selector_all("script", "nodes => nodes.map(n => n.getAttribute('src'))")
    assert sources == ["../static/sort.js"]


def test_downloads_are_local_files(site, page):
    page.goto((site / "index.html").as_uri())
    for name in ("leaderboard.csv", "leaderboard.json"):
        href = page.locator(f"a[href='{name}']").get_attribute("href")
        assert (site / href).is_file()
