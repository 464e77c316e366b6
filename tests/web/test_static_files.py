"""The static files as production serves them: `collectstatic` with content-hashed names (as the image build
runs it) and WhiteNoise's compressed copies, the vendored libraries included."""

import os
import subprocess
import sys
from pathlib import Path

from market.config.env import REPO_ROOT


def test_collectstatic_fingerprints_and_compresses_the_vendored_libraries(tmp_path: Path) -> None:
    environment = {**os.environ, "DJANGO_STATIC_ROOT": str(tmp_path), "DJANGO_STATIC_MANIFEST": "true"}
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), "collectstatic", "--noinput", "--verbosity", "0"],
        env=environment,
        check=True,
        timeout=300,
    )
    vendor = tmp_path / "web" / "vendor"
    hashed = [path.name for path in vendor.glob("htmx-2.0.11.min.*.js")]
    assert len(hashed) == 1, hashed
    assert (vendor / f"{hashed[0]}.gz").is_file() or (vendor / f"{hashed[0]}.br").is_file()
    # Chart.js names its source map: collectstatic rewrites that reference, so the map must be there too
    assert list(vendor.glob("chart.umd.min.js.*.map"))
    assert (tmp_path / "staticfiles.json").is_file()
