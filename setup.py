"""The build compiles the message catalogs (kg/locale/*/LC_MESSAGES/citykg.po -> .mo) into the package.

Everything else is in pyproject.toml. A source checkout run without a build (an editable install)
compiles the catalogs in memory on first use (kg.i18n), so both read the same text.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    """build_py, then the .mo of every .po under kg/locale, written into the build."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        source = Path(__file__).parent / "kg" / "locale"
        for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
            mo = Path(self.build_lib) / "kg" / "locale" / po.relative_to(source).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as stream:
                catalog = read_po(stream)
            with mo.open("wb") as out:
                write_mo(out, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
