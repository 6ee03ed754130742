"""Neural color transfer (He et al., "Progressive Color Transfer with Dense Semantic
Correspondences", algorithm.md sections 1-5), coarse to fine:

for each level L (coarsest first):
  1. deep features of the current intermediate result (the source at the coarsest level);
  2. PatchMatch fields source -> reference and reference -> source, started from the
     previous level's fields;
  3. guidance G: BDS voting of the reference's colors (and of its features, whose agreement
     with the source's gives the matching error e and the confidence w);
  4. with several references: a Potts label map picks, per pixel, the reference with the
     lowest error (smoothly, along the source's edges);
  5. local affine color models a, b per Lab channel, fitted at the level's resolution;
  6. a, b upsampled to full resolution and applied to the ORIGINAL source: the next
     intermediate result.
The final coefficients are smoothed by edge-aware WLS guided by the source's luminance.
"""

from __future__ import annotations


import numpy as np

from . import features, nnf
from ._native import _C
from .errors import InputError
from .progress import progress_bar
from .image import (as_reference_list, check_count, check_seed, check_strength, check_weight,
                    color_image, finish)
from .labels import kmeans_classes, potts_labels, resample_labels
from .local_affine import lab_to_unit, local_affine, unit_to_lab, wls_smooth
from .scale import check_ref_scale, gray3, scale_references
from .temporal import Frame, carry_over, chain, check_previous

STRIDES = {5: 16, 4: 8, 3: 4, 2: 2, 1: 1}

#: Default levels per backbone. EfficientNet-Lite0's level 1 is only its stride-2 stem
#: upsampled, so it adds time and no information: its pyramid stops at level 2.
DEFAULT_LEVELS = {"effnet-lite0": (5, 4, 3, 2), "vgg19": (5, 4, 3, 2, 1)}

#: warm_start='auto': the mean match similarity (cosine of the source's centred features to
#: the references' voted ones) at the second level from which the references count as
#: showing the source's scene. Measured with effnet-lite0 at its level 4 (docs/quality.md):
#: views and graded takes of the same scene 0.54-0.80 (256 to 1024 px); other photos 0.13-0.44
#: (the highest at 1024 px), the other half of the same photo 0.21-0.36 (a half that is mostly
#: one uniform sky, 0.59-0.60).
WARM_START_MIN_SIMILARITY = {"effnet-lite0": 0.5}


def search_radius(level: int, max_len: int) -> int:
    """Random-search radius at a level, in the level's cells (the authors' schedule)."""
    return max(1, {5: max_len // 16, 4: max_len // 32, 3: max_len // 64, 2: 32, 1: 32}[level])


def _resize(img: np.ndarray, shape) -> np.ndarray:
    """Area-aware resize of an (H, W, C) float image to ``shape`` (anti-aliased downsampling)."""
    from skimage.transform import resize

    if img.shape[:2] == tuple(shape):
        return img.astype(np.float32)
    down = shape[0] < img.shape[0] or shape[1] < img.shape[1]
    return resize(img, shape, order=1, anti_aliasing=down, preserve_range=True).astype(np.float32)


def _fit(rgb: np.ndarray, max_size: int) -> np.ndarray:
    """``rgb`` scaled down so that its longest side is at most ``max_size``."""
    h, w = rgb.shape[:2]
    scale = max_size / max(h, w)
    if scale >= 1:
        return rgb
    return np.clip(_resize(rgb, (max(1, round(h * scale)), max(1, round(w * scale)))), 0, 1)


def _unit_lab(rgb: np.ndarray) -> np.ndarray:
    return lab_to_unit(_C.srgb_to_lab(np.ascontiguousarray(rgb, dtype=np.float32)))


def _rgb(unit: np.ndarray) -> np.ndarray:
    return _C.lab_to_srgb(np.ascontiguousarray(unit_to_lab(unit)))


def _progress(total: int, enabled, desc: str = "neural transfer"):
    """A tqdm bar on stderr (by default only when stderr is a terminal), or None."""
    return progress_bar(total, enabled, desc)


def neural_transfer(src, refs, *, backbone: str = "effnet-lite0", levels=None, beta: float = 2.0,
                    lambda_l: float = 0.02, lambda_nl: float = 2.0, clusters: int = 10,
                    seed: int = 0, backend: str = "auto", weights=None, progress=None,
                    strength: float = 1.0, max_size: int = 1024, cg_iterations: int = 300,
                    ref_scale="auto", context: float = 0.0, center: bool = True,
                    warm_start: bool | str = False, previous=None, temporal: float = 0.9,
                    report: dict | None = None) -> np.ndarray:
    """Recolor ``src`` with the colors of ``refs`` by neural color transfer.

    Parameters
    ----------
    src : (H, W, 3) or (H, W, 4) image (dtype policy of :mod:`transfer.image`).
    refs : image or sequence of images
        One or several references; with several, each pixel takes its colors from the
        reference that matches it best (a smooth label map).
    backbone : {'effnet-lite0', 'vgg19'}
    levels : sequence of int, optional
        Pyramid levels to run, coarsest first (default per backbone, see DEFAULT_LEVELS).
    beta : float
        Weight of completeness in BDS voting (0: coherence only).
    lambda_l, lambda_nl : float
        Local-smoothness and non-local weights of the affine model (lambda_l is 0.125 in the
        authors' code; with this implementation's units that over-smooths the models).
    cg_iterations : int
        Conjugate-gradient iterations of the affine solve per level (the authors stop at
        100, where the solve has not converged). Together, lambda_l = 0.02 and 300
        iterations lowered the mean CIEDE2000 to ground truth on four scenes of
        benchmarks/quality from 8.7 to 6.8 (local changes) and from 7.4 to 5.1 (global).
    clusters : int
        Semantic clusters of the non-local term (0 disables it).
    seed : int
        Seed of PatchMatch and k-means: the same seed gives the same output.
    backend : {'auto', 'cpu', 'cuda'}
        Nearest-neighbour-field backend.
    weights : path, optional
        Weights file of the backbone (VGG-19).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    strength : float in [0, 1]
        Blend between the source (0) and the full transfer (1).
    max_size : int
        Longest side of the working resolution: larger sources and references are matched and
        fitted at this size, and the final color models, smooth by construction, are
        upsampled and applied to the full-resolution source.
    ref_scale : 'auto', float, or a sequence of floats
        Factor by which each reference is resized before matching, so that its content
        appears at the size it has in the source (deep features are not scale-invariant):
        'auto' (default) tries :data:`transfer.scale.SCALE_CANDIDATES` (0.35 to 1) per
        reference on the luminance and keeps the one whose matches are the most confident;
        1 matches the references as they are; a sequence gives one factor per reference
        (as ``report["ref_scales"]`` tells them).
    context : float
        Weight of the next coarser level's features appended to the finest level's before
        matching (a hypercolumn: 0, the default, matches on the finest level's features
        alone). 0.5 lowered the mean CIEDE2000 of benchmarks/quality from 6.32 to 6.02 with
        the plain features, better on 25 of its 35 cases, where the references show the
        source's scene, from 6.02 to 5.87 with the centred ones, and from 4.97 to 4.89 with
        ``warm_start`` too (34 cases better); see docs/quality.md.
    center : bool
        Match on features centred on the joint mean of the source's and the references'
        (:func:`transfer.features.center_jointly`) rather than on the plain unit-length
        features of the paper (False). Default True: mean CIEDE2000 of benchmarks/quality
        6.32 -> 6.02.
    warm_start : bool
        Start each level's affine solve from the coarser level's models, upsampled, instead
        of the box statistics of the paper: the solves end near convergence, so the result
        follows the guidance (the references' matched colors) more closely. Better where
        the references show the source's scene (another view, a graded take, a frame of the
        same shot): mean CIEDE2000 of benchmarks/quality 6.02 -> 4.97, 33 of 35 cases
        better, at the same time. Worse where they only show other content in the wanted
        colors: the solve then copies the guidance's patchwork and the source's own
        structure fades (SSIM of the lightness to the source's, five such pairs at 512 px:
        0.67 -> 0.53), which the unconverged solve from box statistics keeps. Hence off by
        default. 'auto' decides from the matches themselves: on where the mean similarity of
        the source's features to the references' matched ones at the second level (the
        first with a coarser one) reaches :data:`WARM_START_MIN_SIMILARITY` (same scene),
        off below (other content); effnet-lite0 only (its threshold), off with other
        backbones. ``report["warm_start"]`` says what was done.
    previous : transfer.temporal.Frame, optional
        ``report["frame"]`` of the preceding frame of the same shot (:func:`neural_frames`
        chains them): frames of a video are then recolored consistently. The final color
        models take, where this frame shows what the previous one did (optical flow, checked
        by the warped frame's colors: :func:`transfer.temporal.carry`), the previous frame's
        models carried over by the flow, at a share of ``temporal``. Without it each frame is
        matched on its own, and the same content can come out in colors several CIEDE2000
        units apart from one frame to the next.
    temporal : float in [0, 1]
        With ``previous``: the carried models' share where the frames agree (default 0.9: a
        tenth comes from this frame's own fit, so that a long shot does not drift far from
        the references; 1 copies the first frame's look wherever its content stays).
    report : dict, optional
        Filled with intermediate pictures (guidance, confidence, labels per level), each
        level's mean match similarity, the reference scales ("ref_scales"), whether the
        solves were warm-started ("warm_start"), what the next frame needs ("frame") and,
        with ``previous``, the carried models' share per pixel ("temporal").

    Returns
    -------
    ndarray like ``src`` (dtype policy).
    """
    s = color_image(src, "src")
    strength = check_strength(strength)
    ref_list = as_reference_list(refs)
    names = ["ref"] if len(ref_list) == 1 else [f"refs[{i}]" for i in range(len(ref_list))]
    rs = [color_image(r, n) for r, n in zip(ref_list, names)]
    if backend not in ("auto", "cpu", "cuda"):
        raise InputError(f"unknown backend {backend!r}; expected 'auto', 'cpu' or 'cuda'")
    if int(max_size) != max_size or max_size < 16:
        raise InputError(f"max_size must be an integer >= 16, got {max_size!r}")
    check_ref_scale(ref_scale)
    context = check_weight("context", context)
    beta = check_weight("beta", beta)
    lambda_l = check_weight("lambda_l", lambda_l)
    lambda_nl = check_weight("lambda_nl", lambda_nl)
    clusters = check_count("clusters", clusters, 0, 256)
    cg_iterations = check_count("cg_iterations", cg_iterations)
    seed = check_seed(seed)
    if not (isinstance(warm_start, (bool, np.bool_)) or warm_start == "auto"):
        raise InputError(f"warm_start must be True, False or 'auto', got {warm_start!r}")
    if backbone not in DEFAULT_LEVELS:
        raise InputError(f"unknown backbone {backbone!r}; expected one of {', '.join(DEFAULT_LEVELS)}")
    levels = features.check_levels(DEFAULT_LEVELS[backbone] if levels is None else levels)
    net = features.backbone(backbone, weights=weights)
    extract = features.context_levels(levels, context)
    full_h, full_w = s.rgb.shape[:2]
    src_rgb = _fit(s.rgb, max_size)
    height, width = src_rgb.shape[:2]
    temporal = check_previous(previous, src_rgb.shape, temporal)
    src_unit = _unit_lab(src_rgb)
    bar = _progress(len(levels) * (len(rs) + 1), progress)

    ref_rgbs = scale_references(net, gray3(src_rgb), [_fit(r.rgb, max_size) for r in rs], ref_scale,
                                max_size=max_size, seed=seed, backend=backend, report=report)
    ref_feats = [{lv: f.numpy() for lv, f in net.features(r, extract).items()} for r in ref_rgbs]
    ref_units = [_unit_lab(r) for r in ref_rgbs]
    max_len = max([height, width] + [max(r.shape[:2]) for r in ref_rgbs])
    fields = [None] * len(rs)  # (ab, ba) of the previous level per reference
    cluster_map = None
    current = src_rgb
    a_full = b_full = prev_models = None
    warm = None if warm_start == "auto" else bool(warm_start)  # None (auto): decided at the second of `levels`
    for level in levels:
        with_context = bool(context) and level == levels[-1]
        now = (level, level + 1) if with_context else (level,)
        fs_all = {lv: f.numpy() for lv, f in net.features(current, now).items()}
        h, w = fs_all[level].shape[1:]
        if cluster_map is None and clusters > 0 and lambda_nl > 0:
            cluster_map = kmeans_classes([fs_all[level]], clusters, seed)[0]
        src_level = _resize(src_unit, (h, w))
        frs_all = ref_feats
        if center:
            fs_all, *frs_all = features.center_jointly([fs_all] + ref_feats, now)
        if with_context:  # the finest level's matches also weigh their surroundings
            fs = features.with_context(fs_all[level], fs_all[level + 1], context)
            frs = [features.with_context(fr[level], fr[level + 1], context) for fr in frs_all]
        else:
            fs, frs = fs_all[level], [fr[level] for fr in frs_all]
        fs_unit = nnf.normalize(fs)
        guides, errors = [], []
        for i, fr in enumerate(frs):
            hr, wr = fr.shape[1:]
            radius = search_radius(level, max_len // STRIDES[level])
            init_ab = init_ba = None
            if fields[i] is not None:
                prev_ab, prev_ba = fields[i]
                init_ab = nnf.upsample(prev_ab, (h, w), (hr, wr), coarse_shape_b=prev_ba.shape[:2])
                init_ba = nnf.upsample(prev_ba, (hr, wr), (h, w), coarse_shape_b=prev_ab.shape[:2])
            f_ab = nnf.patchmatch(fs, fr, init=init_ab, radius=radius, seed=seed, backend=backend)
            f_ba = nnf.patchmatch(fr, fs, init=init_ba, radius=radius, seed=seed + 1, backend=backend)
            fields[i] = (f_ab.nnf, f_ba.nnf)
            guides.append(nnf.bds_vote(_resize(ref_units[i], (hr, wr)), f_ab, f_ba, beta=beta))
            voted = nnf.bds_vote(nnf.normalize(fr), f_ab, f_ba, beta=beta)
            errors.append(-np.einsum("hwc,hwc->hw", fs_unit, voted))
            if bar is not None:
                bar.update(1)
        if len(rs) > 1:
            labels = potts_labels(np.stack(errors), src_level[..., 0])
        else:
            labels = np.zeros((h, w), np.int32)
        rows, cols = np.indices((h, w))
        guide = np.stack(guides)[labels, rows, cols]
        error = np.stack(errors)[labels, rows, cols]
        spread = float(error.max() - error.min())
        confidence = np.maximum(1.0 - (error - error.min()) / (spread if spread > 0 else 1.0), 1e-6)
        nu = (height * width) / (h * w)
        level_clusters = None if cluster_map is None else resample_labels(cluster_map, (h, w))
        # warm_start: from the coarser level's models, upsampled (nested iteration, as in
        # multigrid), the 300 steps end near the converged models, which the box-statistics
        # start reaches only after about 1000 (benchmarks/quality: 4.97 either way); stopped
        # early from the box statistics, the models stay nearer those, which keep the
        # source's structure where the guidance is an unrelated patchwork.
        similarity = float(-error.mean())
        if warm is None and prev_models is not None:
            warm = similarity >= WARM_START_MIN_SIMILARITY.get(backbone, np.inf)
        x0 = None
        if warm and prev_models is not None:
            x0 = tuple(_C.resize_bilinear(np.ascontiguousarray(m), h, w) for m in prev_models)
        a, b = local_affine(src_level, guide, confidence, nu=nu, lambda_l=lambda_l,
                            lambda_nl=lambda_nl, clusters=level_clusters,
                            iterations=cg_iterations, x0=x0)
        prev_models = (a, b)
        a_full = _C.resize_bilinear(a, height, width)
        b_full = _C.resize_bilinear(b, height, width)
        if level == levels[-1]:  # edge-aware smoothing of the final coefficients
            fitted = a_full * src_unit + b_full
            inside = ((fitted >= 0) & (fitted <= 1)).astype(np.float64)
            data_weight = np.concatenate([inside, inside], axis=2) * (1 - 1e-3) + 1e-3
            lam = 0.024 * nu * (4 if level == 1 else 1)
            smooth = wls_smooth(np.concatenate([a_full, b_full], axis=2), src_unit[..., 0], lam=lam,
                                data_weight=data_weight, iterations=100)
            a_full, b_full = smooth[..., :3], smooth[..., 3:]
            if previous is not None:  # the previous frame's models where it showed the same content
                models, share = carry_over(np.concatenate([a_full, b_full], axis=2), src_rgb,
                                           previous, temporal)
                a_full, b_full = models[..., :3], models[..., 3:]
                if report is not None:
                    report["temporal"] = share
        current = _rgb(np.clip(a_full * src_unit + b_full, 0, 1))
        if report is not None:
            report.setdefault("levels", []).append({
                "level": level, "guide": _rgb(np.clip(guide, 0, 1)), "confidence": confidence,
                "labels": labels, "result": current, "similarity": similarity})
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    a_working, b_working = a_full, b_full
    if (height, width) != (full_h, full_w):  # the smooth models, applied at full resolution
        a_full = _C.resize_bilinear(np.ascontiguousarray(a_full), full_h, full_w)
        b_full = _C.resize_bilinear(np.ascontiguousarray(b_full), full_h, full_w)
        current = _rgb(np.clip(a_full * _unit_lab(s.rgb) + b_full, 0, 1))
    if report is not None:
        report["result"] = current
        report["warm_start"] = bool(warm)
        report["frame"] = Frame(src_rgb, np.concatenate([a_working, b_working], axis=2),
                                report.get("ref_scales"))
    return finish(s, current, strength)


def neural_frames(frames, refs, *, temporal: float = 0.9, ref_scale="auto", **options):
    """Recolors the frames of one shot, in order, consistently: yields each frame's result.

    Each frame after the first is recolored with the previous one's models carried along the
    motion (``previous``, ``temporal`` of :func:`neural_transfer`), and with the references
    at the scale picked for the first frame (``ref_scale='auto'`` is decided once). ``frames``
    is any iterable of images of one size (a list, or a generator reading files); the other
    options are :func:`neural_transfer`'s (``report`` excepted).
    """
    return chain(neural_transfer, frames, refs, temporal=temporal, ref_scale=ref_scale, **options)
