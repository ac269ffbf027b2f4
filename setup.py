"""Build hook (the rest of the configuration is in pyproject.toml): a wheel carries the shipped
adapters. Each `models/<base>/` holding a manyskills.json is copied into the package as
`manyskills/models/<base>/`, where `manyskills.model.paths` looks first. Editable installs skip the
copy: there `paths` finds the adapters in the checkout's models/ folder."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "heads.safetensors", "manyskills.json")


class BuildPyWithAdapters(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for manifest in sorted((Path(__file__).resolve().parent / "models").glob("*/manyskills.json")):
            dest = Path(self.build_lib) / "manyskills" / "models" / manifest.parent.name
            dest.mkdir(parents=True, exist_ok=True)
            for name in ADAPTER_FILES:
                shutil.copy2(manifest.parent / name, dest / name)


setup(cmdclass={"build_py": BuildPyWithAdapters})
