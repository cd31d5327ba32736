#!/usr/bin/env bash
# Remove from a built app folder what SonoClick never loads at run time: torch's C++ headers, CMake files,
# static libraries and test data, Qt translations, and Qt plugins for features the app does not use.
set -euo pipefail
app=${1:?usage: trim.sh dist/SonoClick}
internal="$app/_internal"
[ -d "$internal" ] || internal="$app"
rm -rf "$internal"/torch/include "$internal"/torch/share "$internal"/torch/test "$internal"/torch/testing/_internal/data
find "$internal" -name '*.a' -delete
find "$internal" -path '*PyQt5/Qt5/translations' -prune -exec rm -rf {} +
for plugin in sqldrivers multimedia mediaservice audio printsupport position sensors webview geoservices \
              playlistformats sceneparsers renderplugins texttospeech bearer; do
    find "$internal" -path "*PyQt5/Qt5/plugins/$plugin" -prune -exec rm -rf {} +
done
