"""Writers that turn the store into files for other programs.

``exports.anki`` writes an Anki package (.apkg), ``exports.csv`` Anki's
text-import format; both take their notes from ``exports.notes``.
"""
