"""Drive the listening-test page in headless Chromium: every trial answered → ratings saved."""

from __future__ import annotations

import shutil
import threading

import pytest

from emovc.evaluation.listening import build_trials, summarize_ratings
from emovc.evaluation.listening_server import ListeningServer
from emovc.evaluation.manifest import read_manifest

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary")
def test_page_records_every_answer(tiny_run, tmp_path):
    trials = build_trials(read_manifest(tiny_run), seed=0)
    server = ListeningServer(trials, tmp_path / "ratings.csv", port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(server.url)
            page.fill("#listener", "tester")
            page.click("#start")
            for k in range(len(trials)):
                page.wait_for_selector(f"text=Trial {k + 1} of {len(trials)}")
                if page.query_selector("input[name=nat]"):
                    page.check("input[name=nat][value='4']")
                    page.check("input[name=emo][value='2']")
                    page.click("#next")
                else:
                    page.click("button[data-c=A]")
            page.wait_for_selector("#done", state="visible")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    s = summarize_ratings(tmp_path / "ratings.csv")
    assert s["n_ratings"] == len(trials)
    assert s["mos"]["converted"]["naturalness"]["mean"] == 4.0
    ab = s["ab"]["converted vs source"]
    assert ab["prefer_converted"] + ab["prefer_source"] == 2
