"""README says what a newcomer needs, and agrees with the Makefile and the app's flags."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def test_newcomer_notes_apt_cpu_torch_venv_size_and_stopping():
    assert "apt" in README and "chromium" in README and "fonts-wqy-microhei" in README
    assert "root" in README and "sudo" in README
    pin = re.search(r"torch==([\d.]+)", MAKEFILE).group(1)  # the pin README tells how to get as a CPU wheel
    assert f"torch=={pin} --index-url https://download.pytorch.org/whl/cpu" in README
    assert re.search(r"`\.venv` takes about [\d.]+ GB", README)
    assert "stop it with Ctrl+C" in README


def test_every_app_flag_is_in_the_readme():
    help_text = subprocess.run([sys.executable, "app.py", "--help"], capture_output=True, text=True, cwd=ROOT,
                               check=True).stdout
    flags = set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"}
    assert flags and all(f"`{flag} " in README for flag in flags), flags
