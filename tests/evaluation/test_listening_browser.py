"""Drive the listening-test page in headless Chromium: every trial answered → ratings saved."""

from __future__ import annotations

import shutil
import threading

import pytest

from emovc.evaluation.listening import build_trials
from emovc.evaluation.listening_ratings import summarize_ratings
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
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
            page = browser.new_page()
            page.goto(server.url)
            page.fill("#listener", "tester")
            page.click("#start")
            for k in range(len(trials)):
                page.wait_for_selector(f"text=Trial {k + 1} of {len(trials)}")
                mos = page.query_selector("input[name=nat]") is not None
                answer = "#next" if mos else "button[data-c=A]"
                if mos:
                    page.check("input[name=nat][value='4']")
                    page.check("input[name=emo][value='2']")
                # rated, but not yet played to the end: no answer yet (an A/B trial needs both)
                clips = page.query_selector_all("#trial audio")
                for clip in clips:
                    assert page.is_disabled(answer)
                    clip.evaluate("a => { a.playbackRate = 8; return a.play(); }")
                    clip.evaluate("a => new Promise(r => a.ended ? r() : "
                                  "a.addEventListener('ended', r))")
                assert len(clips) == (1 if mos else 2)
                page.wait_for_selector(f"{answer}:enabled")
                page.click(answer)
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
