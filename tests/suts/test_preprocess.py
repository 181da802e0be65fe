"""The MLPerf reference preprocessing against values computed by hand."""

import numpy as np
import pytest

from suts.errors import DatasetError
from suts.workloads.preprocess import (
    ImagePreprocessing,
    area_upsample_weights,
    area_weights,
    center_crop,
    load_rgb,
    resize_area,
    scaled_size,
)


def test_reference_sizes():
    p = ImagePreprocessing()
    assert p.resize_px == 256  # int(100 * 224 / 87.5)
    assert scaled_size(375, 500, 256) == (256, 341)  # int(256 * 500 / 375) = 341
    assert scaled_size(500, 375, 256) == (341, 256)
    assert scaled_size(300, 300, 256) == (256, 256)
    img = np.zeros((256, 341, 3))
    img[:, 58] = 1  # left = int((341 - 224) / 2) = 58
    assert center_crop(img, 224, 224)[:, 0].all()


def test_area_weights_by_hand():
    # 3 -> 2: each output pixel covers 1.5 input pixels
    np.testing.assert_allclose(area_weights(3, 2), [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]])
    np.testing.assert_allclose(area_weights(4, 2), [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    np.testing.assert_allclose(area_weights(5, 5), np.eye(5))
    # OpenCV INTER_AREA up-sampling: x2 replicates, 2 -> 3 gives [a, (a+b)/2, b]
    np.testing.assert_allclose(area_upsample_weights(2, 4), [[1, 0], [1, 0], [0, 1], [0, 1]])
    np.testing.assert_allclose(area_upsample_weights(2, 3), [[1, 0], [0.5, 0.5], [0, 1]])
    for src, dst in [(500, 341), (375, 256), (180, 256), (7, 3)]:
        w = area_weights(src, dst) if dst <= src else area_upsample_weights(src, dst)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_resize_area_block_means():
    img = np.array([[10, 20, 30, 40], [50, 60, 70, 80]], dtype=np.uint8)[..., None]
    out = resize_area(img, 1, 2)
    assert out[..., 0].tolist() == [[35, 55]]  # (10+20+50+60)/4, (30+40+70+80)/4
    out = resize_area(np.array([[0, 90, 180]], dtype=np.uint8)[..., None], 1, 2)
    assert out[..., 0].tolist() == [[30, 150]]  # (2*0 + 90)/3, (90 + 2*180)/3


def test_full_pipeline_by_hand():
    # 4x6 image, crop 2 -> short side int(100*2/87.5) = 2 -> resize to 2x3 (2x2 block means)
    # -> centre crop 2x2 at left int((3-2)/2) = 0 -> minus mean -> CHW
    blocks = np.array([[10, 100, 200], [40, 160, 250]], dtype=np.uint8)
    rgb = np.stack([blocks, blocks // 2, blocks // 5], axis=-1)
    img = rgb.repeat(2, axis=0).repeat(2, axis=1)
    assert img.shape == (4, 6, 3)
    mean = (1.0, 2.0, 3.0)
    out = ImagePreprocessing(crop_px=2, mean_rgb=mean)(img)
    expected = np.array(
        [
            [[10 - 1, 100 - 1], [40 - 1, 160 - 1]],
            [[5 - 2, 50 - 2], [20 - 2, 80 - 2]],
            [[2 - 3, 20 - 3], [8 - 3, 32 - 3]],
        ],
        dtype=np.float32,
    )
    assert out.dtype == np.float32 and out.shape == (3, 2, 2)
    np.testing.assert_array_equal(out, expected)
    nhwc = ImagePreprocessing(crop_px=2, mean_rgb=mean, layout="NHWC")(img)
    np.testing.assert_array_equal(nhwc, expected.transpose(1, 2, 0))
    scaled = ImagePreprocessing(crop_px=2, mean_rgb=(0, 0, 0), std_rgb=(2.0, 4.0, 8.0))(img)
    np.testing.assert_allclose(scaled[:, 0, 0], [10 / 2, 5 / 4, 2 / 8])


def test_reference_shape_and_pillow_box_agreement():
    image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (512, 682, 3), dtype=np.uint8)
    ours = resize_area(img, 256, 341)
    # for integer ratios Pillow's BOX filter is the same block mean (in fixed point); for other
    # ratios it weighs by pixel centres, not covered area, so it is no reference there
    box = np.asarray(image.fromarray(img).resize((341, 256), image.BOX))
    assert np.abs(ours.astype(int) - box.astype(int)).max() <= 1
    out = ImagePreprocessing()(img[:375, :500])
    assert out.shape == (3, 224, 224)


def test_load_rgb_errors(tmp_path):
    pytest.importorskip("PIL")
    with pytest.raises(DatasetError, match="does not exist"):
        load_rgb(tmp_path / "nope.jpg")
    bad = tmp_path / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(DatasetError, match=r"corrupt\.jpg"):
        load_rgb(bad)


def test_load_rgb_converts_grey(tmp_path):
    image = pytest.importorskip("PIL.Image")
    path = tmp_path / "grey.png"
    image.fromarray(np.full((5, 7), 77, np.uint8)).save(path)
    rgb = load_rgb(path)
    assert rgb.shape == (5, 7, 3) and (rgb == 77).all()
