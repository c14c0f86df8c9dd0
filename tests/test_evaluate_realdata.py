"""gesticulate evaluate on real clips with videos (../shared/data; skipped when absent)."""

from __future__ import annotations

import dataclasses
import json

import pytest

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

CLIPS = ("avspeech_sample1.avi", "hbr_speaker7.mp4")


@pytest.fixture(scope="module")
def real_report(shared_data, tmp_path_factory):
    from gesticulate.data.build import build_dataset
    from gesticulate.data.clips import read_manifest, write_manifest
    from gesticulate.evaluate import evaluate

    tmp = tmp_path_factory.mktemp("real")
    ds = tmp / "ds"
    build_dataset([shared_data / "video" / n for n in CLIPS], output=ds, fps=25.0,
                  write_video=True, report=False, progress=False)
    # Two speakers give no test split by the builder's rule; every kept clip is a test clip here.
    rows = [dataclasses.replace(r, split="test") if r.status == "kept" else r
            for r in read_manifest(ds)]
    write_manifest(ds, rows)
    kept = [r for r in rows if r.status == "kept"]
    assert kept, [r.reason for r in rows]
    out = tmp / "report"
    result = evaluate(ds, output=out, generators=["procedural"], size=192, num_samples=2,
                      fgd_steps=30, progress=False)
    return out, result, len(kept)


def _agg(result, name, key):
    row = next(r for r in result["rows"] if r["name"] == name)
    return row["aggregate"][key]["mean"]


def test_real_report_has_video_metrics(real_report):
    out, result, n = real_report
    names = [r["name"] for r in result["rows"]]
    assert names[:2] == ["ground_truth", "procedural"] and "mean_pose" in names
    assert result["settings"]["video"] and all(c["has_video"] for c in result["clips"])
    assert len(result["clips"]) == n
    # Ground truth scored against itself: identical frames, the same person, and MediaPipe
    # re-detection agrees with the dataset's skeletons.
    assert _agg(result, "ground_truth", "psnr") == 100.0
    assert _agg(result, "ground_truth", "ssim") == pytest.approx(1.0)
    assert _agg(result, "ground_truth", "id_similarity") > 0.5
    assert _agg(result, "ground_truth", "pck_render") > 0.6
    # The warp renderer animates the clip's own first frame: same person, not the same frames.
    assert _agg(result, "procedural", "psnr") < 100.0
    assert _agg(result, "procedural", "id_similarity") > 0.5
    assert 0 <= _agg(result, "procedural", "hkc") <= 1
    assert _agg(result, "mean_pose", "l1div_body") == 0.0


def test_real_report_files(real_report):
    out, result, _ = real_report
    assert json.loads((out / "metrics.json").read_text()) == result
    md = (out / "metrics.md").read_text()
    assert "## Video" in md and result["fgd_encoder"]["hash"] in md
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 1 + 3 + 1
    assert (out / "videos" / "procedural").is_dir()
