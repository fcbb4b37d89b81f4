"""Importing this module makes sure torch imports: Debian's python3-torch lives under
/usr/bin/python3, so a script started by another python3 without torch (a pyenv one, say) re-runs
itself there with the same arguments."""
import os
import sys

try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover
    if os.path.exists('/usr/bin/python3') and os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3'):
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    raise
