"""The whole story of ``kaga-vc demo``, as CI runs it: city, residents, issuance, offline verification recorded
in the access log, revocation, anchoring, a resident's history with proofs, open data.

Run: python examples/whole_story.py WORKDIR
The steps are in kaga_vc/cli/demo.py (``run_story``); the README's "The demo" gives the command for each.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from kaga_vc.cli.demo import run_story

if __name__ == "__main__":
    run_story(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
