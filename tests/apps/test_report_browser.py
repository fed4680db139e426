"""report.html opened in headless Chromium from ``file://``: the page renders and every embedded
image loads (Debian's ``chromium`` package; skipped cleanly where it is not installed)."""

import re
import shutil
import subprocess

import numpy as np
import pytest

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome"))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                                         "(apt-get install -y chromium)")

# A page that only a browser can judge: after the load event, how many images decoded.
PROBE = """<script>window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute("data-images", loaded.length + "/" + images.length);
});</script>"""


def _chromium(profile, *args):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)


def test_every_image_of_the_report_loads_in_a_browser(demo_run, tmp_path):
    out, *_ = demo_run
    page = (out / "report.html").read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"     # the report itself stays free of scripts
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _chromium(tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom",
                    probe.as_uri()).stdout
    expected = page.count("<img ")
    assert expected >= 2
    assert re.search(r'data-images="(\d+)/(\d+)"', dom).groups() == (str(expected),
                                                                     str(expected))


def test_a_screenshot_shows_the_page_rendered_with_its_plots(demo_run, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    out, *_ = demo_run
    shot = tmp_path / "report.png"
    _chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2200",
              "--hide-scrollbars", (out / "report.html").as_uri())
    pixels = image.imread(shot)[..., :3]
    print(f"screenshot: {shot}")
    assert pixels.shape[:2] == (2200, 1280)
    ink = np.mean(np.any(pixels < 0.9, axis=-1))
    assert ink > 0.05                    # text, tables and plots, not a blank page

    def share_near(rgb):
        return np.mean(np.all(np.abs(pixels - np.array(rgb) / 255) < 0.08, axis=-1))

    # The loss curves' colours (matplotlib's orange and green) appear only inside the PNGs.
    assert share_near((255, 127, 14)) > 1e-4 and share_near((44, 160, 44)) > 1e-4
