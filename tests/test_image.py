import numpy as np
import pytest
from PIL import Image

from gesticulate.errors import InputError, OptionError
from gesticulate.image import load_image, output_size


def _photo(h=200, w=120):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 2 % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)


def test_exif_rotation_is_applied(tmp_path):
    img = Image.fromarray(_photo())
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    img.save(tmp_path / "r.jpg", exif=exif)
    out = load_image(tmp_path / "r.jpg")
    assert out.shape == (120, 200, 3)


@pytest.mark.parametrize("mode", ["RGBA", "L", "LA", "P", "CMYK", "I;16"])
def test_modes_become_rgb(tmp_path, mode):
    img = Image.fromarray(_photo()).convert(mode)
    ext = "tif" if mode in ("CMYK", "I;16") else "png"
    img.save(tmp_path / f"m.{ext}")
    out = load_image(tmp_path / f"m.{ext}")
    assert out.shape == (200, 120, 3) and out.dtype == np.uint8


def test_transparent_background_is_white(tmp_path):
    rgba = np.zeros((100, 100, 4), np.uint8)
    rgba[30:70, 30:70] = (255, 0, 0, 255)
    Image.fromarray(rgba).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[50, 50]) == (255, 0, 0)


def test_bad_images(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_image(tmp_path / "none.png")
    (tmp_path / "t.png").write_text("hello")
    with pytest.raises(InputError, match="not an image"):
        load_image(tmp_path / "t.png")
    Image.fromarray(_photo(32, 32)).save(tmp_path / "tiny.png")
    with pytest.raises(InputError, match="32x32"):
        load_image(tmp_path / "tiny.png")
    Image.fromarray(_photo(400, 400)).save(tmp_path / "big.png")
    with pytest.raises(InputError, match="downscale"):
        load_image(tmp_path / "big.png", max_pixels=100_000)
    data = (tmp_path / "big.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError):
        load_image(tmp_path / "cut.png")


def test_huge_photo_is_read(tmp_path):
    Image.new("RGB", (8000, 6000), (90, 120, 150)).save(tmp_path / "huge.jpg", quality=70)
    out = load_image(tmp_path / "huge.jpg")
    assert out.shape[1] / out.shape[0] == pytest.approx(8000 / 6000, rel=0.01)


def test_output_size():
    assert output_size(1280, 720, size=512) == (512, 288)
    assert output_size(600, 800, size=512) == (384, 512)
    w, h = output_size(333, 517, size=257)
    assert w % 2 == 0 and h % 2 == 0
    with pytest.raises(OptionError):
        output_size(100, 100, size=10)
