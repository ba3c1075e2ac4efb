"""Where kaga-vc keeps its data: the one answer every layer uses.

``$KAGA_VC_HOME`` when set and not empty, else the platform's user data directory for kaga-vc. It
sits in the bottom layer so that the verify path (which never imports ``registry``) and the registry
agree on the same folder without importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "KAGA_VC_HOME"


def default_home() -> Path:
    """``$KAGA_VC_HOME``, else the platform's user data directory for kaga-vc."""
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home)
    import platformdirs

    return Path(platformdirs.user_data_dir("kaga-vc", appauthor=False))
