"""Feature backbones: real ImageNet weights for the embedded one, loading code for VGG-19."""

import time

import numpy as np
import pytest
from skimage import data

from transfer import features
from transfer.errors import InputError


@pytest.fixture(scope="module")
def lite0():
    return features.backbone("effnet-lite0")


def test_effnet_lite0_weights_classify_imagenet(lite0):
    # the weights are right if the network recognises the photos
    assert int(np.argmax(lite0.classify(data.chelsea()))) in range(281, 286)  # cat classes
    assert int(np.argmax(lite0.classify(data.coffee()))) == 967  # espresso


@pytest.mark.parametrize("shape", [(64, 64), (75, 101), (16, 16)])
def test_effnet_level_sizes_and_channels(lite0, shape):
    img = (np.random.default_rng(0).random((*shape, 3)) * 255).astype(np.uint8)
    maps = lite0.features(img)
    for level, fmap in maps.items():
        stride = lite0.strides[level]
        assert tuple(fmap.shape) == (lite0.channels[level], -(-shape[0] // stride), -(-shape[1] // stride))
        assert fmap.dtype.is_floating_point and bool(fmap.isfinite().all())


def test_features_accept_the_dtype_policy(lite0):
    img = data.astronaut()[::4, ::4]
    f8 = lite0.features(img, levels=(5,))[5]
    ff = lite0.features(img.astype(np.float32) / 255, levels=(5,))[5]
    f16 = lite0.features(img.astype(np.uint16) * 257, levels=(5,))[5]
    assert float((f8 - ff).abs().max()) < 1e-4 and float((f8 - f16).abs().max()) < 1e-4


def test_unknown_backbone_and_bad_image(lite0):
    with pytest.raises(InputError, match="unknown backbone 'resnet'"):
        features.backbone("resnet")
    with pytest.raises(InputError, match=r"expected \(H, W, 3\)"):
        lite0.features(np.zeros((8, 8), np.uint8))


def test_vgg19_without_weights_fails_at_once_naming_the_file(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        features.Backbone("vgg19", download=False)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert features.VGG19_FILE in message and str(tmp_path / "hub" / "checkpoints") in message
    assert "--weights" in message
    monkeypatch.setenv("TRANSFER_OFFLINE", "1")  # offline: the same, even when downloads are allowed
    with pytest.raises(InputError, match=features.VGG19_FILE):
        features.Backbone("vgg19")
    with pytest.raises(InputError, match="does not exist"):
        features.Backbone("vgg19", weights=tmp_path / "nope.pth")


def _fake_vgg_state(scale=0.05, seed=0, wrong=False):
    import torch

    gen = torch.Generator().manual_seed(seed)
    state = {}
    for i, cin, cout in features._VGG_CONVS:
        shape = (cout, cin + (1 if wrong and i == 28 else 0), 3, 3)
        state[f"features.{i}.weight"] = torch.randn(*shape, generator=gen) * scale
        state[f"features.{i}.bias"] = torch.zeros(cout)
    state["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision files carry the classifier too
    return state


def test_vgg19_loads_a_torchvision_style_file(tmp_path):
    import torch

    path = tmp_path / "vgg19.pth"
    torch.save(_fake_vgg_state(), path)
    net = features.Backbone("vgg19", weights=path)
    maps = net.features((np.random.default_rng(1).random((37, 50, 3)) * 255).astype(np.uint8))
    for level, fmap in maps.items():
        stride = net.strides[level]
        assert tuple(fmap.shape) == (net.channels[level], -(-37 // stride), -(-50 // stride))
    # the weights were loaded, not left at their initial values
    assert torch.equal(net.net.features[28].weight, _fake_vgg_state()["features.28.weight"])


def test_vgg19_rejects_wrong_files(tmp_path):
    import torch

    wrong = tmp_path / "wrong.pth"
    torch.save(_fake_vgg_state(wrong=True), wrong)
    with pytest.raises(InputError, match=r"features.28.weight has shape"):
        features.Backbone("vgg19", weights=wrong)
    junk = tmp_path / "junk.pth"
    junk.write_text("not torch")
    with pytest.raises(InputError, match="not a readable torch weights file"):
        features.Backbone("vgg19", weights=junk)


def test_center_jointly():
    rng = np.random.default_rng(0)
    sets = [{2: rng.random((8, 5, 6), dtype=np.float32) + 0.5, 3: rng.random((8, 3, 3), dtype=np.float32)},
            {2: rng.random((8, 4, 7), dtype=np.float32) * 3}]
    copies = [{k: v.copy() for k, v in s.items()} for s in sets]
    out = features.center_jointly(sets, (2,))
    # the mean over the images of each image's mean, of the unit-length vectors, is removed
    units = [s[2] / np.linalg.norm(s[2], axis=0, keepdims=True) for s in copies]
    mean = np.mean([u.mean(axis=(1, 2)) for u in units], axis=0)[:, None, None]
    for o, u in zip(out, units):
        np.testing.assert_allclose(o[2], u - mean, atol=1e-6)
    np.testing.assert_allclose(np.mean([o[2].mean(axis=(1, 2)) for o in out], axis=0), 0, atol=1e-6)
    assert out[0][3] is sets[0][3]  # levels not asked for are left as they are
    for s, c in zip(sets, copies):  # the inputs are not modified
        for k in s:
            np.testing.assert_array_equal(s[k], c[k])
    # all-positive features (after ReLU) are all similar; centred, unrelated ones are not
    a, b = rng.random((2, 64, 1, 1), dtype=np.float32)
    cos = lambda x, y: float((x * y).sum() / np.linalg.norm(x) / np.linalg.norm(y))  # noqa: E731
    ca, cb = (f[2] for f in features.center_jointly([{2: a}, {2: b}], (2,)))
    assert cos(a, b) > 0.6 and cos(ca, cb) < -0.9  # two vectors: centred, they are opposite
