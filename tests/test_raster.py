"""Image → GS v 0 bands; decoded back with an independent unpacker."""

import pytest
from PIL import Image, ImageDraw

from escpos809.errors import InvalidData
from escpos809.raster import image_to_escpos, pack, raster_bands, to_mono


def unpack_bands(data: bytes) -> Image.Image:
    """Parse GS v 0 bands (independent of the encoder) into one mode-'L' image, black = 0."""
    rows, width_bytes, i = [], None, 0
    while i < len(data):
        assert data[i : i + 3] == b"\x1dv0" and data[i + 3] == 0
        x = data[i + 4] | data[i + 5] << 8
        y = data[i + 6] | data[i + 7] << 8
        width_bytes = width_bytes or x
        assert x == width_bytes
        body = data[i + 8 : i + 8 + x * y]
        rows += [body[r * x : (r + 1) * x] for r in range(y)]
        i += 8 + x * y
    img = Image.new("L", (width_bytes * 8, len(rows)), 255)
    for yy, row in enumerate(rows):
        for xx in range(width_bytes * 8):
            if row[xx // 8] & (0x80 >> (xx % 8)):
                img.putpixel((xx, yy), 0)
    return img


def test_pixels_survive_the_round_trip():
    img = Image.new("RGB", (21, 50), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([2, 3, 10, 20], fill="black")
    d.point((20, 49), fill="black")
    out = image_to_escpos(img, 576, band_rows=24, dither="threshold")
    assert out.count(b"\x1dv0") == 3  # 24 + 24 + 2 rows
    back = unpack_bands(out)
    assert back.size == (24, 50)  # padded to whole bytes with white, not to 576 dots
    for x in range(24):
        for y in range(50):
            expected = 0 if (2 <= x <= 10 and 3 <= y <= 20) or (x, y) == (20, 49) else 255
            assert back.getpixel((x, y)) == expected, (x, y)


def test_reference_logo_size_unpadded():
    # §5: a 384 x 120 logo in one band is 8 + 5,760 bytes; padded to 576 it would be 8,648
    out = image_to_escpos(Image.new("L", (384, 120), 255), 576, band_rows=120)
    assert len(out) == 5768


def test_wide_images_are_scaled_to_the_paper():
    mono = to_mono(Image.new("L", (1152, 100), 0), 576)
    assert mono.size == (576, 50)
    with pytest.raises(InvalidData, match="image width must be 1-576"):
        to_mono(Image.new("L", (10, 10)), 576, width=600)


def test_transparency_prints_as_paper():
    img = Image.new("RGBA", (8, 1), (0, 0, 0, 0))
    img.putpixel((0, 0), (0, 0, 0, 255))
    assert pack(to_mono(img, 576, dither="threshold")) == (1, 1, b"\x80")


def test_floyd_steinberg_dithers_mid_grey():
    _, _, data = pack(to_mono(Image.new("L", (64, 64), 128), 576))
    black = sum(bin(b).count("1") for b in data)
    assert 0.4 < black / (64 * 64) < 0.6  # about half the dots, not all or none


def test_oversized_and_empty_images_refused():
    with pytest.raises(InvalidData, match="at most"):
        to_mono(Image.new("1", (10000, 5000)), 576)
    with pytest.raises(ValueError, match="band_rows"):
        raster_bands(1, 1, b"\x00", 0)


@pytest.fixture
def two_strips(monkeypatch):
    """Two strips on any machine (``rasterize(parallel=True)`` takes the strip path)."""
    from concurrent.futures import ThreadPoolExecutor

    from escpos809 import raster

    pool = ThreadPoolExecutor(2)
    monkeypatch.setattr(raster, "_pool", lambda: pool)
    yield
    pool.shutdown()


def test_parallel_threshold_equals_single_pass(two_strips):
    from escpos809.raster import rasterize

    img = Image.linear_gradient("L").resize((571, 900))  # odd width: padding per strip
    assert rasterize(img, 576, dither="threshold", parallel=True) == pack(to_mono(img, 576, dither="threshold"))


def test_parallel_dithering_has_no_seam(two_strips):
    import numpy as np

    from escpos809.raster import rasterize

    # 10-row bands of alternating grey: a strip placed off by a row shows as a band mismatch
    img = Image.fromarray(np.repeat(np.resize(np.repeat([64, 192], 10), 1000), 576).reshape(1000, 576).astype(np.uint8))
    width_bytes, rows, data = rasterize(img, 576, parallel=True)  # below the size where strips pay
    single = pack(to_mono(img, 576))
    assert (width_bytes, rows, len(data)) == (single[0], single[1], len(single[2]))
    assert data[: 500 * 72] == single[2][: 500 * 72]  # the first strip is the single pass

    def band_density(raw: bytes):
        return np.unpackbits(np.frombuffer(raw, np.uint8)).reshape(100, 10 * 576).mean(axis=1)

    ours, theirs = band_density(data), band_density(single[2])
    assert np.abs(ours - theirs).max() < 0.02, np.abs(ours - theirs).argmax()
    assert abs(ours[50] - (1 - 64 / 255)) < 0.02  # the band right after the cut
