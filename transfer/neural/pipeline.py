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

from dataclasses import dataclass

import numpy as np

from .. import features, nnf
from .._native import _C, device_option
from ..color import gray3, lab_to_srgb, srgb_to_lab
from ..errors import InputError
from ..image import (check_count, check_seed, check_strength, check_weight, color_image,
                     color_references, finish, tensors_in_out)
from ..progress import progress_bar
from ..pyramid import STRIDES, fit, resample_labels, resize, search_radius, working_shape
from ..shot import chain
from . import spread
from .affine import apply_affine, check_solver, lab_to_unit, local_affine, unit_to_lab, wls_smooth
from .clusters import kmeans_classes
from .frames import Frame, carry_over, check_previous
from .labels import potts_labels
from .scale import check_ref_scale, scale_references

#: Default levels per backbone. EfficientNet-Lite0's level 1 is only its stride-2 stem
#: upsampled, so it adds time and no information: its pyramid stops at level 2.
DEFAULT_LEVELS = {"effnet-lite0": (5, 4, 3, 2), "vgg19": (5, 4, 3, 2, 1)}

#: warm_start='auto': the mean match similarity at the second level from which the
#: references count as showing the source's scene (effnet-lite0; docs/quality.md).
WARM_START_MIN_SIMILARITY = {"effnet-lite0": 0.5}

#: solver='multigrid': each level's models solved to this relative residual, and, where the
#: matches say the references show other content (a cold start), pulled toward their start
#: with this weight (x nu, the data term's scale): the regulariser that the early stop of
#: 300 Jacobi steps was (docs/performance.md).
MULTIGRID_TOL, COLD_PRIOR = 1e-5, 0.003

#: The share of the source that the references show (the mean of the coarsest level's
#: ``spread.shown``) up to which they count as showing other content (the whole prior), and
#: from which as showing part of the scene (none; in between, in proportion). Measured:
#: 0.01-0.08 with references of other content, 0.42-0.67 with partial references that auto
#: leaves cold (docs/performance.md).
OTHER_CONTENT_SHOWN = (0.1, 0.4)

@dataclass(frozen=True)
class Options:
    """The settings of a neural transfer, checked (:func:`neural_transfer`'s keywords)."""

    backbone: str = "effnet-lite0"
    levels: tuple = DEFAULT_LEVELS["effnet-lite0"]
    beta: float = 2.0
    lambda_l: float = 0.02
    lambda_nl: float = 2.0
    clusters: int = 10
    seed: int = 0
    device: str = "auto"
    weights: object = None
    max_size: int = 1024
    cg_iterations: int = 300
    ref_scale: object = "auto"
    context: float = 0.0
    center: bool = True
    warm_start: object = "auto"
    spread: bool = True
    solver: str = "multigrid"

    @classmethod
    def checked(cls, *, backbone="effnet-lite0", levels=None, **given) -> "Options":
        """The options from keywords, each checked; InputError names a bad one."""
        if given.get("device", "auto") not in ("auto", "cpu", "cuda"):
            raise InputError(f"unknown device {given['device']!r}; expected 'auto', 'cpu' or 'cuda'")
        max_size = given.get("max_size", 1024)
        if int(max_size) != max_size or max_size < 16:
            raise InputError(f"max_size must be an integer >= 16, got {max_size!r}")
        check_ref_scale(given.get("ref_scale", "auto"))
        for name in ("context", "beta", "lambda_l", "lambda_nl"):
            if name in given:
                given[name] = check_weight(name, given[name])
        if "clusters" in given:
            given["clusters"] = check_count("clusters", given["clusters"], 0, 256)
        if "cg_iterations" in given:
            given["cg_iterations"] = check_count("cg_iterations", given["cg_iterations"])
        given["seed"] = check_seed(given.get("seed", 0))
        warm = given.get("warm_start", "auto")
        if not (isinstance(warm, (bool, np.bool_)) or warm == "auto"):
            raise InputError(f"warm_start must be True, False or 'auto', got {warm!r}")
        check_solver(given.get("solver", "multigrid"))
        if backbone not in DEFAULT_LEVELS:
            raise InputError(f"unknown backbone {backbone!r}; expected one of {', '.join(DEFAULT_LEVELS)}")
        levels = features.check_levels(DEFAULT_LEVELS[backbone] if levels is None else levels)
        return cls(backbone=backbone, levels=levels, **given)


@dataclass
class Working:
    """The images of a transfer at the working size, and what is computed once for them."""

    net: object
    src_rgb: np.ndarray  # float RGB, longest side <= max_size
    src_unit: np.ndarray  # its Lab in [0, 1] per channel
    ref_rgbs: list  # the references at the working size and their scale
    ref_units: list
    ref_feats: list  # per reference: {level: (C, h, w) features}
    extract: tuple  # the levels whose features are computed
    max_len: int  # longest side of all the images, in pixels
    ref_scales: list  # the factor each reference was resized by


@dataclass
class Level:
    """What one level leaves for the next: the fields per reference, the color models, the
    semantic clusters, and whether the solves are warm-started (None: to be decided)."""

    fields: list
    models: tuple | None = None  # (a, b) at the level's resolution
    models_full: tuple | None = None  # ... at the working size
    clusters: np.ndarray | None = None
    warm: bool | None = None
    shown: np.ndarray | None = None  # how surely the references show each cell (coarsest level)


def unit_lab(rgb: np.ndarray) -> np.ndarray:
    """Float sRGB -> CIELab scaled to [0, 1] per channel (the color models' space)."""
    return lab_to_unit(srgb_to_lab(rgb))


def unit_rgb(unit: np.ndarray) -> np.ndarray:
    """Inverse of :func:`unit_lab`."""
    return lab_to_srgb(unit_to_lab(unit))


@tensors_in_out
def neural_transfer(src, refs, *, backbone: str = "effnet-lite0", levels=None, beta: float = 2.0,
                    lambda_l: float = 0.02, lambda_nl: float = 2.0, clusters: int = 10,
                    seed: int = 0, device: str = "auto", weights=None, progress=None,
                    strength: float = 1.0, max_size: int = 1024, cg_iterations: int = 300,
                    ref_scale="auto", context: float = 0.0, center: bool = True,
                    warm_start: bool | str = "auto", spread: bool = True, solver: str = "multigrid",
                    previous=None, temporal: float = 0.9, report: dict | None = None,
                    backend: str | None = None) -> np.ndarray:
    """Recolor ``src`` with the colors of ``refs`` by neural color transfer (He et al.):
    deep-feature PatchMatch and local affine color models, coarse to fine.

    Parameters
    ----------
    src : (H, W, 3) or (H, W, 4) image (dtype policy of :mod:`transfer.image`).
    refs : image or sequence of images
        With several, each pixel takes its colors from the reference that matches it best.
    backbone : {'effnet-lite0', 'vgg19'}
    levels : pyramid levels, coarsest first (default per backbone, :data:`DEFAULT_LEVELS`).
    beta : weight of completeness in BDS voting (0: coherence only).
    lambda_l, lambda_nl : local-smoothness and non-local weights of the color models.
    clusters : semantic clusters of the non-local term (0 turns it off).
    seed : seed of PatchMatch and k-means; the same seed gives the same output.
    device : {'auto', 'cpu', 'cuda'}: where the correspondences are computed.
    weights : weights file of the backbone (VGG-19).
    progress : show a progress bar (default: when stderr is a terminal).
    strength : blend between the source (0) and the full transfer (1).
    max_size : longest side at which images are matched and fitted; the models are applied to
        the full-resolution source.
    cg_iterations : conjugate-gradient steps of each level's color-model solve (solver='cg').
    ref_scale : 'auto', a factor, or one factor per reference: references resized before
        matching so that their content has the source's size (:mod:`transfer.neural.scale`).
    context : weight of the coarser level's features appended to the finest level's
        (about 0.5 helps when the references show the source's scene).
    center : match features centred on the images' joint mean (True) or the paper's plain
        unit-length features.
    warm_start : start each level's solve from the coarser level's models: True where the
        references show the source's scene, False where they show other content, 'auto'
        (default) to decide from the matches.
    spread : give the content the references do not show the color models of the content of
        similar color they show (:mod:`transfer.neural.spread`), instead of those of its
        wrong matches (effnet-lite0; not measured with other backbones, where it is off).
    solver : {'multigrid', 'cg'}: the color models solved to convergence by
        multigrid-preconditioned conjugate gradient, held near their start where the
        references show other content (default), or by ``cg_iterations`` Jacobi-preconditioned
        conjugate-gradient steps (keeps less of the source's structure where the references
        show other content, and is less accurate where they show part of the scene;
        docs/quality.md).
    previous, temporal : the preceding frame of a shot (a :class:`transfer.neural.frames.Frame`,
        as :func:`neural_frame` returns it) and the share of its carried models.
    report : dict, optional
        Filled with pictures per level, the reference scales, whether the solves were
        warm-started, and ``"frame"`` (what :func:`neural_frame` returns).
    backend : the old name of ``device`` (deprecated).

    Returns
    -------
    ndarray like ``src`` (dtype policy). docs/api.md and docs/quality.md give the defaults'
    measurements.
    """
    device = device_option(device, backend, "neural_transfer")
    options = Options.checked(backbone=backbone, levels=levels, beta=beta, lambda_l=lambda_l,
                              lambda_nl=lambda_nl, clusters=clusters, seed=seed, device=device,
                              weights=weights, max_size=max_size, cg_iterations=cg_iterations,
                              ref_scale=ref_scale, context=context, center=center,
                              warm_start=warm_start, spread=bool(spread), solver=solver)
    result, frame = transfer_frame(src, refs, options, previous=previous, temporal=temporal,
                                   strength=strength, progress=progress, report=report)
    if report is not None:
        report["frame"] = frame
    return result


def neural_frame(src, refs, *, previous: Frame | None = None, temporal: float = 0.9, **options):
    """One frame of a shot: ``(result, frame)``, where ``frame`` is what the next frame takes
    as ``previous`` (its color models, and the scales the references were matched at, which
    the next frame keeps). ``options`` are :func:`neural_transfer`'s."""
    report = options.pop("report", None)
    report = {} if report is None else report
    if previous is not None and previous.ref_scales is not None:
        options.setdefault("ref_scale", previous.ref_scales)
    result = neural_transfer(src, refs, previous=previous, temporal=temporal, report=report, **options)
    return result, report["frame"]


def transfer_frame(src, refs, options: Options, *, previous=None, temporal: float = 0.9,
                   strength: float = 1.0, progress=None, report: dict | None = None):
    """The neural transfer on checked :class:`Options`: ``(result, frame)``. The driver:
    prepare the working images, then level by level match, build the guidance, choose a
    reference per pixel, fit the color models and apply them; the last level's models are
    smoothed and applied at full resolution."""
    s = color_image(src, "src")
    strength = check_strength(strength)
    rs = color_references(refs)
    temporal = check_previous(previous, working_shape(s.rgb.shape, options.max_size), temporal)
    work = prepare(s, rs, options, report)
    bar = progress_bar(len(options.levels) * (len(rs) + 1), progress, "neural transfer")
    state = Level(fields=[None] * len(rs), warm=None if options.warm_start == "auto" else bool(options.warm_start))
    current = work.src_rgb
    for level in options.levels:
        current = transfer_level(work, state, level, current, options, previous, temporal, bar, report)
    if bar is not None:
        bar.close()
    models = state.models_full
    height, width = work.src_rgb.shape[:2]
    if (height, width) != s.rgb.shape[:2]:  # the smooth models, applied at full resolution
        current = apply_affine(models, s.rgb)
    if report is not None:
        report["result"] = current
        report["warm_start"] = bool(state.warm)
    frame = Frame(work.src_rgb, np.concatenate(models, axis=2), work.ref_scales)
    return finish(s, current, strength), frame


def prepare(s, rs, options: Options, report) -> Working:
    """The working images (longest side max_size), the references at the source's scale,
    and the references' features, computed once."""
    net = features.backbone(options.backbone, weights=options.weights)
    extract = features.context_levels(options.levels, options.context)
    src_rgb = fit(s.rgb, options.max_size)
    scales = {}
    ref_rgbs = scale_references(net, gray3(src_rgb), [fit(r.rgb, options.max_size) for r in rs],
                                options.ref_scale, max_size=options.max_size, seed=options.seed,
                                device=options.device, report=scales)
    if report is not None:
        report.update(scales)
    ref_feats = [{lv: f.numpy() for lv, f in net.features(r, extract).items()} for r in ref_rgbs]
    max_len = max(list(src_rgb.shape[:2]) + [max(r.shape[:2]) for r in ref_rgbs])
    return Working(net, src_rgb, unit_lab(src_rgb), ref_rgbs, [unit_lab(r) for r in ref_rgbs],
                   ref_feats, extract, max_len, scales["ref_scales"])


def transfer_level(work: Working, state: Level, level: int, current, options: Options,
                   previous, temporal, bar, report):
    """One level: the features of the current result matched to the references', the
    guidance and confidence, the color models fitted and applied; returns the new result."""
    fs, frs, h, w = level_features(work, state, level, current, options)
    fs_unit = nnf.normalize(fs)
    guides, errors = [], []
    for i, fr in enumerate(frs):
        radius = search_radius(level, work.max_len // STRIDES[level])
        f_ab, f_ba = nnf.match_both_ways(fs, fr, previous=state.fields[i], radius=radius,
                                         seed=options.seed, device=options.device)
        state.fields[i] = (f_ab.nnf, f_ba.nnf)
        guide, error = guidance(fs_unit, fr, f_ab, f_ba, work.ref_units[i], options.beta)
        guides.append(guide)
        errors.append(error)
        if bar is not None:
            bar.update(1)
    src_level = resize(work.src_unit, (h, w))
    labels, guide, error = choose_reference(guides, errors, src_level)
    confidence = error_confidence(error)
    similarity = float(-error.mean())
    if state.warm is None and state.models is not None:
        state.warm = similarity >= WARM_START_MIN_SIMILARITY.get(options.backbone, np.inf)
    if state.shown is None and options.backbone in spread.SIMILARITY:  # at the coarsest level
        state.shown = spread.shown(-error, options.backbone)
    a, b = fit_models(work, state, src_level, guide, confidence, options)
    if options.spread and state.shown is not None:
        a, b = spread_shown(state, (a, b), src_level, confidence)
    state.models = (a, b)
    height, width = work.src_rgb.shape[:2]
    models = (_C.resize_bilinear(a, height, width), _C.resize_bilinear(b, height, width))
    if level == options.levels[-1]:
        models = smooth_models(models, work.src_unit, (height * width) / (h * w), level)
        if previous is not None:  # the previous frame's models where it showed the same content
            carried, share = carry_over(np.concatenate(models, axis=2), work.src_rgb, previous, temporal)
            models = (carried[..., :3], carried[..., 3:])
            if report is not None:
                report["temporal"] = share
    state.models_full = models
    current = apply_affine(models, work.src_rgb)
    if report is not None:
        report.setdefault("levels", []).append({
            "level": level, "guide": unit_rgb(np.clip(guide, 0, 1)), "confidence": confidence,
            "labels": labels, "result": current, "similarity": similarity})
    if bar is not None:
        bar.update(1)
    return current


def level_features(work: Working, state: Level, level: int, current, options: Options):
    """The features of the current result at ``level`` and the references' to match them
    with (centred jointly, with the coarser level's as context at the finest level); also
    the semantic clusters, from the first level's. Returns ``(fs, frs, h, w)``."""
    with_context = bool(options.context) and level == options.levels[-1]
    now = (level, level + 1) if with_context else (level,)
    fs_all = {lv: f.numpy() for lv, f in work.net.features(current, now).items()}
    h, w = fs_all[level].shape[1:]
    if state.clusters is None and options.clusters > 0 and options.lambda_nl > 0:
        state.clusters = kmeans_classes([fs_all[level]], options.clusters, options.seed)[0]
    frs_all = work.ref_feats
    if options.center:
        fs_all, *frs_all = features.center_jointly([fs_all] + work.ref_feats, now)
    if with_context:  # the finest level's matches also weigh their surroundings
        fs = features.with_context(fs_all[level], fs_all[level + 1], options.context)
        frs = [features.with_context(fr[level], fr[level + 1], options.context) for fr in frs_all]
    else:
        fs, frs = fs_all[level], [fr[level] for fr in frs_all]
    return fs, frs, h, w


def guidance(fs_unit, fr, f_ab, f_ba, ref_unit, beta: float):
    """The reference's colors voted onto the source (BDS) and the matching error per cell:
    minus the cosine of the source's unit features ``fs_unit`` to the reference's voted
    ones."""
    hr, wr = fr.shape[1:]
    guide = nnf.bds_vote(resize(ref_unit, (hr, wr)), f_ab, f_ba, beta=beta)
    voted = nnf.bds_vote(nnf.normalize(fr), f_ab, f_ba, beta=beta)
    return guide, -np.einsum("hwc,hwc->hw", fs_unit, voted)


def choose_reference(guides, errors, src_level):
    """With several references, a Potts label map of the one with the lowest error per
    pixel (smooth along the source's edges); returns ``(labels, guide, error)``."""
    h, w = errors[0].shape
    if len(guides) > 1:
        labels = potts_labels(np.stack(errors), src_level[..., 0])
    else:
        labels = np.zeros((h, w), np.int32)
    rows, cols = np.indices((h, w))
    return labels, np.stack(guides)[labels, rows, cols], np.stack(errors)[labels, rows, cols]


def error_confidence(error: np.ndarray) -> np.ndarray:
    """The matching error rescaled to a confidence in (0, 1], 1 at the best match."""
    spread = float(error.max() - error.min())
    return np.maximum(1.0 - (error - error.min()) / (spread if spread > 0 else 1.0), 1e-6)


def fit_models(work: Working, state: Level, src_level, guide, confidence, options: Options):
    """The local affine color models of the level (algorithm.md section 4); warm-started
    from the coarser level's, upsampled, when ``state.warm``."""
    h, w = guide.shape[:2]
    height, width = work.src_rgb.shape[:2]
    level_clusters = None if state.clusters is None else resample_labels(state.clusters, (h, w))
    x0 = None
    if state.warm and state.models is not None:
        x0 = tuple(_C.resize_bilinear(np.ascontiguousarray(m), h, w) for m in state.models)
    common = dict(nu=(height * width) / (h * w), lambda_l=options.lambda_l, lambda_nl=options.lambda_nl,
                  clusters=level_clusters, x0=x0)
    if options.solver == "multigrid":
        # from the second level on, so that warm_start=False gives what 'auto' gives when it
        # decides so there
        cold = state.warm is False and state.models is not None
        prior = COLD_PRIOR * other_content(state) if cold else 0.0
        return local_affine(src_level, guide, confidence, solver="multigrid", tol=MULTIGRID_TOL,
                            iterations=1000, prior=prior, **common)
    return local_affine(src_level, guide, confidence, iterations=options.cg_iterations, **common)


def other_content(state: Level) -> float:
    """How much the references show other content than the source (1) rather than part of
    its scene (0), by the share of the source they show (:data:`OTHER_CONTENT_SHOWN`); 1
    for a backbone without :func:`transfer.neural.spread.shown`."""
    if state.shown is None:
        return 1.0
    other, scene = OTHER_CONTENT_SHOWN
    return float(np.clip((scene - state.shown.mean()) / (scene - other), 0.0, 1.0))


def spread_shown(state: Level, models, src_level, confidence):
    """The models of what the references show spread by color to what they do not; which is
    which is decided at the coarsest level, by the matches' similarity (``state.shown``,
    :func:`transfer.neural.spread.shown`)."""
    sure = resize(state.shown[..., None], confidence.shape)[..., 0]
    return spread.spread_models(models, src_level, confidence, sure)


def smooth_models(models, src_unit, nu: float, level: int):
    """The final models smoothed along the source's edges (WLS), trusting them where they
    keep colors in gamut."""
    a, b = models
    fitted = a * src_unit + b
    inside = ((fitted >= 0) & (fitted <= 1)).astype(np.float64)
    data_weight = np.concatenate([inside, inside], axis=2) * (1 - 1e-3) + 1e-3
    lam = 0.024 * nu * (4 if level == 1 else 1)
    smooth = wls_smooth(np.concatenate([a, b], axis=2), src_unit[..., 0], lam=lam,
                        data_weight=data_weight, iterations=100)
    return smooth[..., :3], smooth[..., 3:]


def neural_frames(frames, refs, *, temporal: float = 0.9, ref_scale="auto", **options):
    """Recolors the frames of one shot, in order, consistently: yields each frame's result.

    Each frame after the first is recolored with the previous one's models carried along the
    motion (:func:`neural_frame`), and with the references at the scale picked for the first
    frame. ``frames`` is any iterable of images of one size; the other options are
    :func:`neural_transfer`'s (``report`` excepted).
    """
    return chain(neural_transfer, frames, refs, temporal=temporal, ref_scale=ref_scale, **options)
