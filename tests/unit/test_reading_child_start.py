"""The spawned reading process of a command started as a script (the `flask` command is one)
loads neither the script nor Flask: only what its own function needs."""

import subprocess
import sys

from shopadmin.config import PROJECT_ROOT


def loaded_packages():
    """(The child's work here: the top-level packages loaded in it.)"""
    yield sorted({name.split(".")[0] for name in sys.modules}
                 & {"flask", "werkzeug", "click", "flask_sqlalchemy", "sqlalchemy"})


SCRIPT = """\
import flask.cli  # as the flask command's script does
from shopadmin.parallel import produced_in_child
from tests.unit.test_reading_child_start import loaded_packages
FACTORY = {factory}
if __name__ == "__main__":
    print(list(produced_in_child(spawned=(FACTORY, ()))))
"""


def _child_loads(tmp_path, factory: str) -> str:
    script = tmp_path / "command.py"
    script.write_text(SCRIPT.format(factory=factory), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, check=True,
                            env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": ""})
    return result.stdout.strip()


def test_a_scripts_reading_child_loads_no_flask(tmp_path):
    assert _child_loads(tmp_path, "loaded_packages") == "[[]]"


def test_a_factory_defined_in_the_script_still_reaches_the_child(tmp_path):
    """(The script is run again in the child, as before, where the factory is its own.)"""
    factory = "None\ndef own():\n    yield 'from the script'\nFACTORY = own"
    assert _child_loads(tmp_path, factory) == "['from the script']"
