"""The cell mask of a crop: Otsu threshold of the cytoplasm marker (RFP), the component at the centre, holes filled."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu


def rescale_unit(image: np.ndarray) -> np.ndarray:
    """(H, W) -> float64 (H, W) min-max rescaled to [0, 1]; all zeros for a constant image.

    The CellSet hands out crops standardised to mean 0 / sd 1 (negative values); cp-measure's intensity,
    texture (img_as_ubyte) and Costes code expect non-negative pixels in [0, 1], so each channel of each crop
    is rescaled on its own. Absolute brightness is lost either way (it already was, by the standardisation).
    """
    image = np.asarray(image, dtype=np.float64)
    low, high = image.min(), image.max()
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        return np.zeros_like(image)
    return (image - low) / (high - low)


def cell_mask(rfp: np.ndarray) -> np.ndarray:
    """(H, W) RFP in [0, 1] -> bool (H, W) mask of the centred cell; all False when nothing is found.

    The crop is centred on its cell, so the Otsu foreground component that contains the centre pixel is the
    cell, holes (vacuoles) filled; when no filled component holds the centre, the component nearest to the
    centre is taken.
    """
    empty = np.zeros(rfp.shape, dtype=bool)
    if not np.all(np.isfinite(rfp)) or rfp.max() <= rfp.min():
        return empty
    components, n = ndi.label(rfp > threshold_otsu(rfp))
    if n == 0:
        return empty
    centre = (rfp.shape[0] // 2, rfp.shape[1] // 2)
    # The cell is the component whose hole-filled outline holds the centre. A speck of noise inside a dark
    # vacuole at the centre is a component too, so the largest such component wins (tried largest first).
    sizes = np.bincount(components.ravel())[1:]
    for label in np.argsort(-sizes, kind="stable") + 1:
        filled = ndi.binary_fill_holes(components == label)
        if filled[centre]:
            return filled
    _, (rows, cols) = ndi.distance_transform_edt(components == 0, return_indices=True)
    return ndi.binary_fill_holes(components == components[rows[centre], cols[centre]])
