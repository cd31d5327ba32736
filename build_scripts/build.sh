#!/usr/bin/env bash
# Build the one-folder desktop app dist/SonoClick/ with the CPU build of torch.
#   bash build_scripts/build.sh            # CPU build (default)
#   TORCH_SPEC="torch==2.13.0 --index-url <your CUDA wheel index>" bash build_scripts/build.sh   # GPU variant
# Prints the folder size before and after trimming and the build time.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
python3 -m venv .build-venv
. .build-venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q ${TORCH_SPEC:-torch==2.13.0}
python -m pip install -q -r requirements.txt pyinstaller
rm -rf build/pyinstaller dist/SonoClick
pyinstaller --noconfirm --clean --log-level WARN --workpath build/pyinstaller --distpath dist \
    build_scripts/sonoclick.spec
echo "size before trimming: $(du -sh dist/SonoClick | cut -f1)"
bash build_scripts/trim.sh dist/SonoClick
echo "size after trimming: $(du -sh dist/SonoClick | cut -f1)"
echo "build time: $(( $(date +%s) - start )) s"
