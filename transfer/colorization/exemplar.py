"""Exemplar-based colorization of gray images (algorithm.md section 6), on the same
nearest-neighbour backend as the neural transfer.

:func:`exemplar`: deep PatchMatch fields both ways between the gray target and gray versions
of the references, coarse to fine; the references' chroma warped onto the target; a
confidence from forward-backward consistency and feature similarity; beside them the colors
of a classifier trained on the references (:mod:`transfer.colorization.classifier`); then
edge-aware propagation guided by the target's luminance with the confidence as data weight
(colorization by optimisation, Levin et al. 2004). :func:`semantic` confines the matches to
pseudo-classes shared with the references.

The output's CIELab lightness equals the input's (within 0.5): colors that would leave the
sRGB gamut are desaturated rather than clipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import classifier as chroma_classifier
from .. import features, nnf
from .._native import _C, device_option
from ..color import gray3, srgb_to_lab
from ..errors import InputError
from ..image import check_count, check_seed, check_weight
from ..neural.affine import check_solver, wls_smooth
from ..neural.clusters import kmeans_classes
from ..neural.labels import potts_labels
from ..neural.scale import check_ref_scale, match_confidence, scale_references
from ..progress import progress_bar
from ..pyramid import STRIDES, fit, resample_labels, resize, search_radius
from .gray import MAX_CLASSES, color_refs, compose, finish_gray, gray_input, gray_lightness

#: solver='multigrid': the propagation solved to this relative residual.
PROPAGATION_TOL = 1e-5


def exemplar(gray, refs, *, backbone: str = "effnet-lite0", levels=(5, 4, 3, 2), beta: float = 2.0,
             propagation: float = 0.01, fusion: str = "annealed", reference_prior: float = 0.5,
             ref_scale="auto", context: float = 0.0, passes: int | None = None,
             center: bool | None = None, classifier: float = 0.3, seed: int = 0,
             device: str = "auto", weights=None, max_size: int = 1024, solver: str = "cg",
             report: dict | None = None, progress=None, backend: str | None = None) -> np.ndarray:
    """Colorize a gray image from color references through deep correspondences: the
    references' colors warped onto the target by coarse-to-fine PatchMatch on deep features,
    joined by the colors of a classifier trained on the references, and propagated along the
    target's edges. docs/quality.md gives the measurements behind each default.

    Parameters
    ----------
    gray : (H, W), (H, W, 1) or gray-valued (H, W, 3/4) image
    refs : color image or sequence of color images
    levels : pyramid levels of the matching, coarsest first
    beta : completeness weight of the BDS voting (fusion='vote')
    propagation : strength of the edge-aware propagation (lambda of the solve)
    fusion : {'annealed', 'vote'}
        How the warped colors are formed from the matches: 'annealed' (default) fuses the
        coherence votes by the annealed mean of Zhang et al. (no graying average of rival
        colors); 'vote' averages them by BDS voting.
    reference_prior : float
        With several references: how much a reference's mean matching quality over the
        whole target counts against it per pixel (0: not at all), so that an unrelated
        reference colors fewer pixels.
    ref_scale : 'auto', a factor, or one factor per reference
        References resized before matching so that their content has the target's size
        ('auto': the most confident of :data:`transfer.neural.scale.SCALE_CANDIDATES`).
    context : float
        Weight of the coarser level's features appended to the finest level's: about 0.5
        where the references show the same scene (another view or frame), 0 (default) where
        they show similar content.
    passes : int, optional
        Colorizations in a row, each further one matching its colored result with the color
        references. Default 2, or 1 with ``context``.
    center : bool, optional
        Match on features centred on the images' joint mean. Default True, or False with
        ``context``.
    classifier : float
        Weight of the classifier's colors beside the matches' (0 turns it off).
    seed, device, weights, max_size : as :func:`transfer.neural_transfer` (``backend``: the
        old name of ``device``, deprecated)
    solver : {'cg', 'multigrid'}
        The propagation's solve: 'cg' (default), 200 Jacobi-preconditioned conjugate-gradient
        steps; 'multigrid', to convergence by multigrid-preconditioned conjugate gradient.
    report : dict, optional
        Filled with "warped" (the references' colors on the target), "confidence",
        "classified" (the classifier's colors, when used), "ref_scales" and, with several
        references, "labels".
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    """
    return _deep_colorize(gray, refs, backbone=backbone, levels=levels, beta=beta,
                          propagation=propagation, seed=seed, device=device, backend=backend, weights=weights,
                          max_size=max_size, report=report, fusion=fusion,
                          reference_prior=reference_prior, ref_scale=ref_scale, context=context,
                          passes=passes, center=center, classifier=classifier, solver=solver,
                          progress=progress)


def semantic(gray, refs, *, classes: int = 8, class_map: dict | None = None,
             backbone: str = "effnet-lite0", levels=(5, 4, 3, 2), beta: float = 2.0,
             propagation: float = 0.01, fusion: str = "annealed", reference_prior: float = 0.5,
             ref_scale="auto", context: float = 0.0, passes: int | None = None,
             center: bool | None = None, classifier: float = 0.3, seed: int = 0,
             device: str = "auto", weights=None, max_size: int = 1024, solver: str = "cg",
             report: dict | None = None, progress=None, backend: str | None = None) -> np.ndarray:
    """Exemplar colorization with semantic priors (after SPColor): the deep features of the
    target and the references are clustered jointly into ``classes`` pseudo-classes
    (k-means on the coarsest level, in the first pass), and matches are confined to the same
    class. Target pixels of a class that no reference shows get confidence 0 and their colors
    from the propagation. ``class_map`` = {target class: reference class} colors a class of the target
    like another class of the references ("category manipulation"; the ids are those of
    ``report["classes"]``). Other parameters as :func:`exemplar`.
    """
    classes = check_count("classes", classes, 1, MAX_CLASSES)
    class_map = check_class_map(class_map, int(classes))
    return _deep_colorize(gray, refs, backbone=backbone, levels=levels, beta=beta,
                          propagation=propagation, seed=seed, device=device, backend=backend, weights=weights,
                          max_size=max_size, report=report, classes=int(classes),
                          class_map=class_map, fusion=fusion, reference_prior=reference_prior,
                          ref_scale=ref_scale, context=context, passes=passes, center=center,
                          classifier=classifier, solver=solver, progress=progress)


def check_class_map(class_map, classes: int) -> dict:
    """``class_map`` ({target class: reference class}, or None) as a dict of ints, each id
    in 0 .. classes - 1; InputError naming the entry otherwise."""
    if class_map is None:
        return {}
    if not isinstance(class_map, dict):
        raise InputError(f"class_map must be a dict {{target class: reference class}}, got {class_map!r}")
    out = {}
    for t, r in class_map.items():
        for role, v in (("target", t), ("reference", r)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < classes:
                raise InputError(f"class_map entry {t!r} -> {r!r}: the {role} class must be an integer "
                                 f"in 0..{classes - 1} (classes={classes})")
        out[int(t)] = int(r)
    return out


#: Weight of the class code appended to the features in semantic matching: the cosine
#: similarity of two pixels of one class is then at least 0.6, of two classes at most 0.2,
#: so every match stays inside its class.
_CLASS_CODE = 2.0


def _with_classes(feat: np.ndarray, classes: np.ndarray, k: int) -> np.ndarray:
    """Normalised features (C, h, w) with a one-hot code of their class appended."""
    h, w = feat.shape[1:]
    cls = resample_labels(classes, (h, w))
    code = np.zeros((k, h, w), np.float32)
    code[cls, np.arange(h)[:, None], np.arange(w)[None, :]] = _CLASS_CODE
    return np.concatenate([np.moveaxis(nnf.normalize(feat), -1, 0), code])


def coherence_candidates(ref_ab: np.ndarray, field: np.ndarray, half: int = 1) -> np.ndarray:
    """The candidate colors of every target pixel p: for each p' in the patch around p,
    matched to q', the reference's color at q' + (p - p') (the coherence votes of BDS, kept
    apart instead of averaged). Returns (h, w, (2 half + 1)^2, 2)."""
    h, w = field.shape[:2]
    hr, wr = ref_ab.shape[:2]
    padded = np.pad(field, ((half, half), (half, half), (0, 0)), mode="edge")
    out = []
    for dy in range(-half, half + 1):
        for dx in range(-half, half + 1):
            nb = padded[half + dy:half + dy + h, half + dx:half + dx + w]
            out.append(ref_ab[np.clip(nb[..., 0] - dy, 0, hr - 1), np.clip(nb[..., 1] - dx, 0, wr - 1)])
    return np.stack(out, axis=2)


def annealed_mean(colors: np.ndarray, weights: np.ndarray, *, temperature: float = 0.38,
                  sigma: float = 5.0) -> np.ndarray:
    """Fusion of candidate ab colors (h, w, n, 2) with weights (h, w, n) by the annealed
    mean of Zhang et al. 2016: the candidates' weighted density (Gaussian, ``sigma`` in ab
    units; evaluated at the candidates rather than on a grid of bins) raised to 1 /
    ``temperature`` weighs the mean, which sides with the dominant color instead of averaging
    rival ones to gray (the plain mean) and is steadier than the single mode."""
    colors = np.asarray(colors, np.float32)
    a_, b_ = colors[..., 0], colors[..., 1]
    da = a_[..., :, None] - a_[..., None, :]
    db = b_[..., :, None] - b_[..., None, :]
    kernel = np.exp((da * da + db * db) * np.float32(-0.5 / sigma**2))
    density = np.einsum("hwij,hwj->hwi", kernel, np.asarray(weights, np.float32))
    logd = np.log(np.maximum(density, 1e-12)) / temperature
    a = np.exp(logd - logd.max(axis=2, keepdims=True))
    return ((a[..., None] * colors).sum(axis=2) / a.sum(axis=2)[..., None]).astype(np.float32)


def _fused_candidates(ref_ab: np.ndarray, field: np.ndarray, mask: np.ndarray,
                      rows_per_chunk: int = 64) -> np.ndarray:
    """The annealed mean of the coherence candidates of the pixels in ``mask`` (in row-major
    order), a band of rows at a time: the pairwise densities take (rows, w, 9, 9) floats."""
    out = []
    for y0 in range(0, field.shape[0], rows_per_chunk):
        band = mask[y0:y0 + rows_per_chunk]
        if not band.any():
            continue
        lo, hi = max(0, y0 - 1), min(field.shape[0], y0 + rows_per_chunk + 1)  # 1-row halo
        cand = coherence_candidates(ref_ab, field[lo:hi])[y0 - lo:y0 - lo + band.shape[0]]
        chosen = cand[band]  # (n, 9, 2)
        fused = chosen[:, 0].copy()
        # Inside coherent regions all nine candidates are one color: their mean is that
        # color, at no cost.
        mixed = (chosen != chosen[:, :1]).any(axis=(1, 2))
        if mixed.any():
            sub = chosen[mixed]
            fused[mixed] = annealed_mean(sub[None], np.ones(sub.shape[:2], np.float32)[None])[0]
        out.append(fused)
    return np.concatenate(out)


#: the classifier's data weight is ``classifier`` times its largest class probability to this
#: power: its colors count where it is sure (measured 1, 2, 3, 4, 6: 4 the best balance;
#: with 1 or 2, partial references got worse, their unseen parts colored with confidence)
CERTAINTY_POWER = 4


def _classify(tgt_feats, lightness, ref_feats, ref_rgbs, levels, finest, seed):
    """Trains a :class:`~transfer.colorization.classifier.ChromaClassifier` on the cells of all
    references (their features at ``levels`` and their lightness; their ab at the finest
    level's resolution) and predicts the target's cells (its features and ``lightness`` at
    the finest level): ((n, 2) ab, (n,) certainty)."""
    def cells(feats, light):
        return np.hstack([chroma_classifier.hypercolumns(feats, levels, light.shape),
                          chroma_classifier.lightness_code(light)])

    x, ab = [], []
    for feats, rgb in zip(ref_feats, ref_rgbs):
        lab = srgb_to_lab(resize(rgb, feats[finest].shape[1:]))
        x.append(cells(feats, lab[..., 0]))
        ab.append(lab[..., 1:].reshape(-1, 2))
    model = chroma_classifier.fit(np.concatenate(x), np.concatenate(ab), seed=seed)
    del x  # (large images: the target's cells come next)
    return model.predict(cells(tgt_feats, lightness))


@dataclass(frozen=True)
class Options:
    """The settings of a deep colorization, checked (:func:`exemplar`'s keywords)."""

    backbone: str
    levels: tuple
    beta: float
    propagation: float
    seed: int
    device: str
    weights: object
    max_size: int
    classes: int | None = None
    class_map: dict | None = None
    fusion: str = "annealed"
    reference_prior: float = 0.5
    ref_scale: object = "auto"
    context: float = 0.0
    passes: int = 2
    center: bool = True
    classifier: float = 0.3
    solver: str = "cg"

    @classmethod
    def checked(cls, *, passes=None, center=None, **given) -> "Options":
        if given.get("fusion", "annealed") not in ("annealed", "vote"):
            raise InputError(f"unknown fusion {given['fusion']!r}; expected 'annealed' or 'vote'")
        for name in ("reference_prior", "context", "classifier", "propagation", "beta"):
            if name in given:
                given[name] = check_weight(name, given[name])
        context = given.get("context", 0.0)
        if passes is None:  # the better setting in each case (docs/quality.md)
            passes = 1 if context else 2
        passes = check_count("passes", passes)
        center = (not context) if center is None else center
        given["seed"] = check_seed(given["seed"])
        check_ref_scale(given.get("ref_scale", "auto"))
        given["levels"] = features.check_levels(given["levels"])
        check_solver(given.get("solver", "cg"))
        return cls(passes=passes, center=center, **given)


@dataclass
class Exemplars:
    """The target and references at the working size, and what is computed once for them."""

    net: object
    lum: np.ndarray  # the target's gray value in [0, 1], full size
    alpha: np.ndarray | None
    dtype: np.dtype
    lightness: np.ndarray  # its CIELab L, full size
    work: np.ndarray  # the target as gray RGB at the working size
    light_work: np.ndarray  # its L at the working size
    ref_rgbs: list  # the references at the working size and their scale
    ref_grays: list
    extract: tuple
    classes: list  # semantic: the target's and the references' class maps, once made


def _deep_colorize(gray, refs, *, progress=None, report=None, backend=None, device="auto",
                   **given) -> np.ndarray:
    """The deep colorization's driver: prepare the exemplars, then one colorization per
    pass (:func:`colorize_pass`), each further pass matching its colored result."""
    options = Options.checked(device=device_option(device, backend, "colorize"), **given)
    lum, alpha, dtype = gray_input(gray)
    rs = color_refs(refs)
    ex = prepare(lum, alpha, dtype, rs, options, report)
    # steps per pass: the features, each level's matching per reference, the colors, the
    # propagation
    bar = progress_bar(options.passes * (1 + len(options.levels) * len(rs) + 2), progress, "colorize")
    # Pass 1 matches the gray target with the gray references. Each further pass matches its
    # colored result with the color references: the colors, right on most pixels, tell
    # apart regions of one gray level, so the matches improve (docs/quality.md).
    rgb = colorize_pass(ex, ex.work, ex.ref_grays, options, final=options.passes == 1, bar=bar, report=report)
    for k in range(2, options.passes + 1):
        rgb = colorize_pass(ex, rgb, ex.ref_rgbs, options, final=k == options.passes, bar=bar, report=report)
    if bar is not None:
        bar.close()
    return finish_gray(rgb, alpha, dtype)


def prepare(lum, alpha, dtype, rs, options: Options, report) -> Exemplars:
    """The working images (longest side max_size) and the references at the target's scale."""
    net = features.backbone(options.backbone, weights=options.weights)
    work = fit(np.repeat(lum[..., None], 3, axis=2), options.max_size)
    ref_rgbs = scale_references(net, work, [fit(r.rgb, options.max_size) for r in rs], options.ref_scale,
                                max_size=options.max_size, seed=options.seed, device=options.device,
                                report=report)
    lightness = gray_lightness(lum)
    light_work = resize(lightness[..., None], work.shape[:2])[..., 0]
    return Exemplars(net, lum, alpha, dtype, lightness, work, light_work, ref_rgbs,
                     [gray3(x) for x in ref_rgbs], features.context_levels(options.levels, options.context), [])


def colorize_pass(ex: Exemplars, target, ref_images, options: Options, *, final: bool, bar, report):
    """One colorization: ``target`` and ``ref_images`` (working size) are what the features
    are computed on; returns the colored image (float RGB), at full size if ``final``, else
    at the working size."""
    tgt_feats, ref_feats, absent = pass_features(ex, target, ref_images, options, report)
    _tick(bar)
    fields = match_references(ex, tgt_feats, ref_feats, options, bar)
    h, w = tgt_feats[options.levels[-1]].shape[1:]
    light_level = resize(ex.lightness[..., None], (h, w))[..., 0] / 100.0
    labels, confidence = choose_references(fields, light_level, absent, options)
    # the colors are sampled on the working image's pixels, each cell's match carried to its
    # pixels (docs/quality.md: finer than the cells, and cheaper than matching at level 1)
    labels, confidence = (resample_labels(x, ex.work.shape[:2]) for x in (labels, confidence))
    ab_level = warp_colors(ex, fields, labels, options)
    data_ab, data_weight = ab_level, confidence
    if options.classifier:  # the classifier's colors: a second data term, where it is sure
        data_ab, data_weight = with_classifier(ex, tgt_feats, ref_feats, light_level, ab_level,
                                               confidence, absent, options, report)
    _tick(bar)
    out = propagate(ex.lightness if final else ex.light_work, data_ab, data_weight, options.propagation,
                    solver=options.solver)
    _tick(bar)
    if report is not None:
        report.update(warped=compose(ex.light_work, ab_level), confidence=confidence, labels=labels)
    return out


def _tick(bar) -> None:
    if bar is not None:
        bar.update(1)


def pass_features(ex: Exemplars, target, ref_images, options: Options, report):
    """The features of the target and the references (centred jointly, the finest level with
    the coarser one as context); semantic: with their pseudo-classes appended, and the
    target's cells of classes no reference shows (``absent``, else None)."""
    tgt_feats = {lv: f.numpy() for lv, f in ex.net.features(target, ex.extract).items()}
    ref_feats = [{lv: f.numpy() for lv, f in ex.net.features(g, ex.extract).items()} for g in ref_images]
    finest = options.levels[-1]
    if options.center:  # compared as deviations from the images' joint mean (features.center_jointly)
        tgt_feats, *ref_feats = features.center_jointly([tgt_feats] + ref_feats, ex.extract)
    if options.context:  # the finest level sees its surroundings too (a hypercolumn)
        for feats in [tgt_feats] + ref_feats:
            feats[finest] = features.with_context(feats[finest], feats[finest + 1], options.context)
    if options.classes is None:
        return tgt_feats, ref_feats, None
    if not ex.classes:  # from the first pass's features, kept for the others
        coarsest = options.levels[0]
        maps = kmeans_classes([tgt_feats[coarsest]] + [f[coarsest] for f in ref_feats],
                              options.classes, options.seed)
        tgt_classes = maps[0].copy()
        for t, r in (options.class_map or {}).items():
            tgt_classes[maps[0] == t] = r
        ex.classes.extend([tgt_classes, maps[1:]])
        if report is not None:  # the ids before class_map, to choose a map by
            report.update(classes=maps[0], ref_classes=list(maps[1:]))
    tgt_classes, ref_classes = ex.classes
    shown = set(np.unique(np.concatenate([c.ravel() for c in ref_classes])).tolist())
    absent = ~np.isin(tgt_classes, list(shown))
    tgt_feats = {lv: _with_classes(f, tgt_classes, options.classes) for lv, f in tgt_feats.items()}
    ref_feats = [{lv: _with_classes(f, rc, options.classes) for lv, f in rf.items()}
                 for rf, rc in zip(ref_feats, ref_classes)]
    return tgt_feats, ref_feats, absent


def match_references(ex: Exemplars, tgt_feats, ref_feats, options: Options, bar) -> list:
    """Coarse-to-fine PatchMatch both ways to each reference; the finest level's fields and
    distances, ``(ab, ba, dist)`` per reference."""
    h0, w0 = ex.work.shape[:2]
    max_len = max([h0, w0] + [max(x.shape[:2]) for x in ex.ref_rgbs])
    fields = [None] * len(ref_feats)
    for level in options.levels:
        fa = tgt_feats[level]
        for i, fr_all in enumerate(ref_feats):
            radius = search_radius(level, max_len // STRIDES[level])
            coarser = None if fields[i] is None else fields[i][:2]
            f_ab, f_ba = nnf.match_both_ways(fa, fr_all[level], previous=coarser, radius=radius,
                                             seed=options.seed, device=options.device)
            fields[i] = (f_ab.nnf, f_ba.nnf, f_ab.dist)
            _tick(bar)
    return fields


def choose_references(fields, light_level, absent, options: Options):
    """The best reference per cell of the finest level (a Potts label map over the match
    costs, a reference that matches poorly overall handicapped by ``reference_prior``) and
    the confidence of its match; both at the working size."""
    h, w = light_level.shape
    costs = np.stack([-match_confidence(f_ab, f_ba, dist) for f_ab, f_ba, dist in fields])
    if len(fields) > 1 and options.reference_prior:
        # a reference that matches the target poorly overall (an unrelated photo) wins fewer
        # pixels on chance resemblance: its cost rises by its mean shortfall against the best
        score = -costs.reshape(len(fields), -1).mean(axis=1)
        costs = costs + options.reference_prior * (score.max() - score)[:, None, None]
    labels = potts_labels(costs, light_level) if len(fields) > 1 else np.zeros((h, w), np.int32)
    rows, cols = np.indices((h, w))
    confidence = np.clip(-costs[labels, rows, cols], 1e-3, 1.0)
    if absent is not None:  # classes no reference shows: colors from propagation only
        confidence[resample_labels(absent, (h, w))] = 1e-6
    return labels, confidence


def warp_colors(ex: Exemplars, fields, labels, options: Options):
    """The chosen references' chroma warped onto the target's working pixels (``labels`` at
    the working size), by the fused coherence candidates ('annealed') or BDS voting
    ('vote')."""
    h0, w0 = ex.work.shape[:2]
    ab_level = np.zeros((h0, w0, 2), np.float32)
    for i, (f_ab, f_ba, _) in enumerate(fields):
        mine = labels == i
        if not mine.any():
            continue
        hr, wr = ex.ref_rgbs[i].shape[:2]
        up_ab = nnf.upsample(f_ab, (h0, w0), (hr, wr), coarse_shape_b=f_ba.shape[:2])
        ref_ab = srgb_to_lab(ex.ref_rgbs[i])[..., 1:]
        if options.fusion == "annealed":  # the reference's candidate colors, fused
            ab_level[mine] = _fused_candidates(ref_ab, up_ab, mine)
        else:
            up_ba = nnf.upsample(f_ba, (hr, wr), (h0, w0), coarse_shape_b=f_ab.shape[:2])
            ab_level[mine] = nnf.bds_vote(ref_ab, up_ab, up_ba, beta=options.beta)[mine]
    return ab_level


def with_classifier(ex: Exemplars, tgt_feats, ref_feats, light_level, ab_level, confidence, absent,
                    options: Options, report):
    """The matches' colors joined by those of a classifier trained on the references, each
    weighted by its confidence: ``(ab, weight)`` at the working size."""
    h, w = light_level.shape
    h0, w0 = ex.work.shape[:2]
    predicted, certainty = _classify(tgt_feats, light_level * 100.0, ref_feats, ex.ref_rgbs,
                                     options.levels, options.levels[-1], options.seed)
    weight = options.classifier * certainty.reshape(h, w) ** CERTAINTY_POWER
    if absent is not None:  # classes no reference shows keep to propagation
        weight[resample_labels(absent, (h, w))] = 0.0
    predicted = _C.resize_bilinear(predicted.reshape(h, w, 2), h0, w0)
    weight = _C.resize_bilinear(np.ascontiguousarray(weight[..., None]), h0, w0)[..., 0]
    data_weight = confidence + weight
    data_ab = (confidence[..., None] * ab_level + weight[..., None] * predicted) / data_weight[..., None]
    if report is not None:
        report.update(classified=compose(ex.light_work, predicted))
    return data_ab, data_weight


def propagate(light: np.ndarray, data_ab, data_weight, propagation: float, *,
              solver: str = "cg") -> np.ndarray:
    """Edge-aware propagation of the chroma (colorization by optimisation) on the lightness
    ``light`` (its size: the result's), trusting each pixel by ``data_weight``; float RGB."""
    out_h, out_w = light.shape
    ab_out = _C.resize_bilinear(np.ascontiguousarray(data_ab, dtype=np.float32), out_h, out_w)
    conf_out = _C.resize_bilinear(np.ascontiguousarray(data_weight[..., None], dtype=np.float32),
                                  out_h, out_w)[..., 0]
    steps = (dict(solver="multigrid", tol=PROPAGATION_TOL, iterations=100) if solver == "multigrid"
             else dict(iterations=200))
    ab_out = wls_smooth(ab_out, light / 100.0, lam=propagation, data_weight=conf_out, **steps)
    return compose(light, ab_out)
