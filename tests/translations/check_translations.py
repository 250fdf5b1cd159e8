#!/usr/bin/env python3
"""Every message the code marks with tr() has a Spanish translation, with the
same {} placeholders (docs/translations.md).

Usage: check_translations.py SOURCE_DIR CATALOG.mo

The messages are extracted from the sources by xgettext (--keyword=tr), as a
translator's tools would; the Spanish catalog is the .mo the build compiled
from po/es/*.po, read with Python's own gettext module (msgfmt leaves fuzzy and
untranslated entries out of it, so they count as missing here).
"""
import collections
import gettext
import pathlib
import re
import subprocess
import sys
import tempfile

PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def extracted_messages(source_dir: pathlib.Path) -> set:
    sources = sorted(str(p) for p in (source_dir / "src").rglob("*.[ch]pp"))
    with tempfile.TemporaryDirectory() as tmp:
        pot = pathlib.Path(tmp) / "cartero.pot"
        english = pathlib.Path(tmp) / "en.mo"
        subprocess.run(["xgettext", "--keyword=tr", "--from-code=UTF-8", "--language=C++",
                        "--force-po", "-o", str(pot)] + sources, check=True)
        # msgen copies each msgid into its msgstr, so the .mo lists every message.
        filled = subprocess.run(["msgen", str(pot)], check=True, capture_output=True).stdout
        filled = filled.replace(b"charset=CHARSET", b"charset=UTF-8")
        subprocess.run(["msgfmt", "-o", str(english), "-"], input=filled, check=True)
        with open(english, "rb") as f:
            return {key for key in gettext.GNUTranslations(f)._catalog if key}


def main() -> int:
    source_dir, catalog = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    messages = extracted_messages(source_dir)
    with open(catalog, "rb") as f:
        spanish = gettext.GNUTranslations(f)._catalog
    problems = []
    for message in sorted(messages):
        translation = spanish.get(message)
        if not translation:
            problems.append(f"no Spanish translation: {message!r}")
        elif (collections.Counter(PLACEHOLDER.findall(message))
              != collections.Counter(PLACEHOLDER.findall(translation))):
            problems.append(f"placeholders differ: {message!r} -> {translation!r}")
    for problem in problems:
        print(problem)
    print(f"{len(messages)} messages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
