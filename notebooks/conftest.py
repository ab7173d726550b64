"""pytest --nbval-lax runs the example notebooks here (the README's test command includes them).

The quickstart folder holds notebooks a pipeline runs with injected parameters, not standalone
examples. Flow runs made by the examples go to a temporary PARTITA_HOME, never ~/.partita.
"""

import atexit
import os
import shutil
import tempfile

collect_ignore = ["quickstart"]

_home = tempfile.mkdtemp(prefix="partita-examples-")
os.environ["PARTITA_HOME"] = _home
atexit.register(shutil.rmtree, _home, True)
