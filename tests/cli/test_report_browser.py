"""The report in a real browser: headless Chromium renders it, shows its figures, and the
page makes no network request.

Chromium runs with every background service it can turn off and with a host-resolver
rule that fails every lookup, so nothing can leave the machine even if the page (or the
browser) tried. Whether the *page* tried is read from Chromium's net log: a request the
page starts carries the page's origin as initiator, while the browser's own housekeeping
requests carry none ("not an origin"). A control page with an external image shows that
such a request is detected.

Without Chromium the tests are skipped, except in CI (``CI=true``), where ``.ci/run``
installs it and its absence is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--disable-domain-reliability", "--disable-breakpad",
    "--disable-client-side-phishing-detection", "--metrics-recording-only", "--no-pings",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--hide-scrollbars",
]
WIDTH, HEIGHT = 1280, 6000  # the brief (one printed page) comes before the first figure
VERMILLION = np.array([213, 94, 0])  # the pooled-effect colour: only the figures use it


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def run_chromium(binary: str, url: str, tmp: Path, *extra: str) -> tuple[str, dict]:
    """Run headless Chromium on ``url``; returns stdout and the parsed net log."""
    tmp.mkdir(parents=True, exist_ok=True)
    net = tmp / "net.json"
    proc = subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--log-net-log={net}",
         *extra, url],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(tmp)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, json.loads(net.read_text())


def page_requests(netlog: dict) -> tuple[list[str], int]:
    """URLs of network requests a page started, and the number of DNS transactions."""
    names = {v: k for k, v in netlog["constants"]["logEventTypes"].items()}
    urls, dns = [], 0
    for e in netlog["events"]:
        kind = names.get(e["type"], "")
        p = e.get("params") or {}
        if kind == "URL_REQUEST_START_JOB" and "url" in p and \
                p.get("initiator") != "not an origin":
            urls.append(p["url"])
        dns += kind == "DNS_TRANSACTION"
    return urls, dns


@pytest.fixture(scope="module")
def rendered(chromium, report_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chromium")
    url = (report_dir / "index.html").resolve().as_uri()
    dom, net_dom = run_chromium(chromium, url, tmp / "dom", "--dump-dom")
    shot = tmp / "shot.png"
    _, net_shot = run_chromium(chromium, url, tmp / "shot", f"--screenshot={shot}",
                               f"--window-size={WIDTH},{HEIGHT}")
    return dom, shot, (net_dom, net_shot)


def test_key_headings_render(rendered):
    dom, _, _ = rendered
    assert re.search(r"<h1>Preoperative vs postoperative stereotactic radiosurgery", dom)
    for heading in ("Bottom line", "Summary", "Local control", "Leptomeningeal disease",
                    "Symptomatic radiation necrosis", "Distant brain failure",
                    "Median overall survival", "Evidence audit", "Methods"):
        assert re.search(rf"<h2[^>]*>{heading}</h2>", dom), heading
    assert len(re.findall(r"<img ", dom)) >= 20
    assert "<script" not in dom.lower()


def test_screenshot_shows_text_and_figures(rendered):
    import matplotlib.image as mpimg

    _, shot, _ = rendered
    img = mpimg.imread(shot)
    assert img.shape[:2] == (HEIGHT, WIDTH)
    rgb = (img[..., :3] * 255).round()
    assert rgb.std() > 20, "blank screenshot"
    nonwhite = (rgb.min(axis=2) < 235).mean()
    assert nonwhite > 0.03, f"only {nonwhite:.1%} of the page is not white"
    # The first forest plot lies within the first 6000 px: its pooled diamond is the only
    # vermillion on the page, so finding it shows that an embedded figure was decoded.
    close = (np.abs(rgb - VERMILLION).max(axis=2) < 30).sum()
    assert close > 300, f"no figure visible ({close} vermillion pixels)"


def test_no_request_leaves_the_machine(rendered):
    _, _, netlogs = rendered
    for net in netlogs:
        urls, dns = page_requests(net)
        assert urls == []
        assert dns == 0


def test_control_page_request_is_detected(chromium, tmp_path):
    """The detector is not vacuous: a page with an external image is caught."""
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><title>c</title>'
                    '<img src="http://srsbayes-control.invalid/x.png" alt="x">')
    _, net = run_chromium(chromium, page.as_uri(), tmp_path / "run", "--dump-dom")
    urls, dns = page_requests(net)
    assert urls == ["http://srsbayes-control.invalid/x.png"]
    assert dns == 0  # the resolver rule answered; no DNS query was sent
