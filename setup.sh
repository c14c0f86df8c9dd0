#!/usr/bin/env bash
# Install gesticulate into ./.venv (CPU build of torch; exactly one OpenCV).
#   ./setup.sh          the package with the web app and evaluation: extras [web,eval]
#   ./setup.sh --test   the same, plus Ray and what the tests need: extra [test]
# (`pip install gesticulate` alone runs generate and demo; see pyproject.toml's extras.)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
extras="[web,eval]"
[ "${1:-}" = "--test" ] && extras="[test]"

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
pip() { .venv/bin/python -m pip "$@"; }
pip install -q --upgrade pip >/dev/null 2>&1 || true
# torch first and pinned to the CPU build (pyproject.toml only asks for a range): an unpinned
# torch pulls several GB of CUDA packages.
pip install -q "torch==2.13.0"
pip install -q -e ".${extras}"
# MediaPipe brings opencv-contrib-python; any other OpenCV wheel would shadow it.
for other in opencv-python opencv-python-headless opencv-contrib-python-headless; do
  if pip show -q "$other" >/dev/null 2>&1; then
    pip uninstall -q -y "$other"
    pip install -q --force-reinstall --no-deps "opencv-contrib-python==$(pip show opencv-contrib-python | sed -n 's/^Version: //p')"
  fi
done
.venv/bin/python -c "import cv2, mediapipe, torch; print('gesticulate ready: torch', torch.__version__, '| mediapipe', mediapipe.__version__, '| opencv', cv2.__version__)"
