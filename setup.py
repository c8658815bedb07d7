"""The `study` command: a plain script on POSIX, a console-script entry point on Windows.

pip writes a console script's wrapper itself, and its wrapper imports ``re``
before anything else: about 4 ms that `study due`, which a shell prompt may run
on every command, cannot otherwise avoid. ``scripts/study`` is installed as it
is (pip points its ``#!python`` line at the environment's interpreter). Windows
needs pip's ``study.exe`` launcher, so it keeps the entry point.
"""

import os

from setuptools import setup

if os.name == "nt":
    setup(entry_points={"console_scripts": ["study = study.entry:main"]})
else:
    # pyproject.toml declares the entry points dynamic: they are given (none) here too
    setup(scripts=["scripts/study"], entry_points={"console_scripts": []})
