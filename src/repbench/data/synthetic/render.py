"""Drawing synthetic yeast cells: geometry, one GFP pattern per Huh localization, microscope optics.

All arrays are batches of cells: per-cell scalars have shape (n,), per-cell dots (n, k) and images
(n, 64, 64), in pixels, with x the column and y the row. A cell is drawn in its own frame: ``u`` along
the mother's long axis (pointing to the bud, when there is one), ``v`` across it.
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

SIZE = 64
_GRID_Y, _GRID_X = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
_AXIS = np.arange(SIZE, dtype=np.float32)

# Microscope: PSF blur (pixels), camera offset and read noise (counts), photons at the peak of the pattern.
PSF_SIGMA_GFP, PSF_SIGMA_RFP = 1.0, 1.2
CAMERA_OFFSET, READ_NOISE = 100.0, 2.0
RFP_PHOTONS = 160.0
BACKGROUND_PHOTONS = 4.0
BUDDING_FRACTION = 0.45


def _soft_inside(r: np.ndarray, scale: np.ndarray, width: float = 0.7) -> np.ndarray:
    """A disc with a soft edge: ~1 where the normalised radius r < 1, ~0 outside; ``scale`` px per unit r."""
    return 1.0 / (1.0 + np.exp(np.clip((r - 1.0) * scale / width, -30, 30)))


def _ring(r: np.ndarray, scale: np.ndarray, width: float, inset: float = 0.0) -> np.ndarray:
    """A thin ring at normalised radius 1 (moved ``inset`` px inwards), Gaussian profile ``width`` px."""
    return np.exp(-(((1.0 - r) * scale - inset) ** 2) / (2 * width**2))


@lru_cache(maxsize=4)
def _blur_matrix(sigma: float) -> np.ndarray:
    """(64, 64) Gaussian PSF as a matrix, rows renormalised at the border: blurred = K @ image @ K.T."""
    offsets = _AXIS[:, None] - _AXIS[None, :]
    kernel = np.exp(-(offsets**2) / (2 * sigma**2))
    return (kernel / kernel.sum(axis=1, keepdims=True)).astype(np.float32)


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (the microscope's PSF) of (n, 64, 64) images, separable, as two matrix products."""
    k = _blur_matrix(sigma)
    return k @ images @ k.T


def _col(a) -> np.ndarray:
    """Per-cell values (n,) -> (n, 1, 1) float32 to broadcast over images; scalars pass through."""
    a = np.asarray(a, dtype=np.float32)
    return a[:, None, None] if a.ndim else a


def gaussian_dots(x: np.ndarray, y: np.ndarray, weight: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Sum of Gaussian spots, separable: x, y, weight (n, k); sigma (n,) -> (n, 64, 64)."""
    s = (2 * sigma**2)[:, None, None]
    gx = np.exp(-((_AXIS[None, None, :] - x[:, :, None]) ** 2) / s)
    gy = np.exp(-((_AXIS[None, None, :] - y[:, :, None]) ** 2) / s)
    return np.einsum("nk,nky,nkx->nyx", weight, gy, gx, optimize=True)


class Cells:
    """The geometry of a batch of n cells, drawn once; compartment maps (n, 64, 64) are computed on demand."""

    def __init__(self, rng: np.random.Generator, n: int, fine: np.ndarray):
        self.rng, self.n = rng, n
        self.fine = fine  # (4,): dot_size, dot_count, texture_freq, intensity_ratio in [0, 1]
        self.budding = rng.random(n) < BUDDING_FRACTION
        self.a = np.where(self.budding, rng.uniform(13.0, 16.0, n), rng.uniform(15.0, 20.0, n))  # semi-axes, px
        self.b = self.a * rng.uniform(0.78, 0.95, n)
        self.theta = rng.uniform(0, 2 * np.pi, n)
        self.bud_radius = self.a * rng.uniform(0.35, 0.6, n)
        self.bud_offset = self.a + 0.75 * self.bud_radius  # bud centre on the +u axis
        shift = np.where(self.budding, -0.45 * self.bud_radius, 0.0)  # keep mother + bud inside the crop
        self.cx = SIZE / 2 - 0.5 + shift * np.cos(self.theta) + rng.normal(0, 1.5, n)
        self.cy = SIZE / 2 - 0.5 + shift * np.sin(self.theta) + rng.normal(0, 1.5, n)
        # Nucleus toward the bud (it migrates into the neck), vacuole on the other side.
        self.nucleus_r = self.b * rng.uniform(0.40, 0.48, n)
        self.nucleus_u = self.a * np.where(self.budding, 0.45, rng.uniform(-0.1, 0.35, n))
        self.nucleus_v = self.b * rng.uniform(-0.15, 0.15, n)
        self.vacuole_r = self.b * rng.uniform(0.45, 0.6, n)
        self.vacuole_u = self.nucleus_u - self.nucleus_r - self.vacuole_r - rng.uniform(0.5, 2.0, n)
        self.vacuole_u = np.maximum(self.vacuole_u, -self.a + self.vacuole_r + 1.5)
        self.vacuole_v = self.b * rng.uniform(-0.15, 0.15, n)
        c, s = np.cos(self.theta), np.sin(self.theta)
        dx, dy = _GRID_X[None] - _col(self.cx), _GRID_Y[None] - _col(self.cy)
        self.u = dx * _col(c) + dy * _col(s)
        self.v = -dx * _col(s) + dy * _col(c)

    # ---- frame helpers -------------------------------------------------------------------------------------
    def to_image(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell-frame points (n, k) -> image x, y (n, k)."""
        c, s = np.cos(self.theta)[:, None], np.sin(self.theta)[:, None]
        return self.cx[:, None] + u * c - v * s, self.cy[:, None] + u * s + v * c

    def _radius(self, cu, cv, ru, rv=None) -> np.ndarray:
        rv = ru if rv is None else rv
        return np.sqrt(((self.u - _col(cu)) / _col(ru)) ** 2 + ((self.v - _col(cv)) / _col(rv)) ** 2)

    # ---- geometry --------------------------------------------------------------------------------------------
    @cached_property
    def r_mother(self):
        return self._radius(0.0, 0.0, self.a, self.b)

    @cached_property
    def r_bud(self):
        r = self._radius(self.bud_offset, 0.0, self.bud_radius)
        return np.where(_col(self.budding), r, 10.0)

    @cached_property
    def r_nucleus(self):
        return self._radius(self.nucleus_u, self.nucleus_v, self.nucleus_r)

    @cached_property
    def r_vacuole(self):
        return self._radius(self.vacuole_u, self.vacuole_v, self.vacuole_r)

    @cached_property
    def body(self):
        """The whole cell, mother and bud: (n, 64, 64) in [0, 1]."""
        return np.maximum(_soft_inside(self.r_mother, _col(self.b)), _soft_inside(self.r_bud, _col(self.bud_radius)))

    @cached_property
    def nucleus(self):
        return _soft_inside(self.r_nucleus, _col(self.nucleus_r))

    @cached_property
    def vacuole(self):
        return _soft_inside(self.r_vacuole, _col(self.vacuole_r))

    @cached_property
    def cytosol(self):
        """The body minus vacuole and nucleus (where cytoplasmic things live)."""
        return self.body * (1 - 0.85 * self.vacuole) * (1 - 0.6 * self.nucleus)

    def texture(self, amplitude: float, scale: float = 1.0, waves: int = 4) -> np.ndarray:
        """1 + a smooth random field (sum of plane waves at the protein's texture frequency), (n, 64, 64)."""
        freq = scale * (0.08 + 0.12 * self.fine[2])  # cycles per pixel
        angle = self.rng.uniform(0, np.pi, (self.n, waves))
        phase = self.rng.uniform(0, 2 * np.pi, (self.n, waves))
        # cos(kx x + ky y + p) = cos(kx x) cos(ky y + p) - sin(kx x) sin(ky y + p): separable, so the
        # sum over waves is one batched matrix product of (n, 2 waves, 64) factors.
        kx = (2 * np.pi * freq * np.cos(angle))[:, :, None] * _AXIS
        ky = (2 * np.pi * freq * np.sin(angle))[:, :, None] * _AXIS + phase[:, :, None]
        along_x = np.concatenate([np.cos(kx), -np.sin(kx)], axis=1).astype(np.float32)
        along_y = np.concatenate([np.cos(ky), np.sin(ky)], axis=1).astype(np.float32)
        field = np.einsum("nky,nkx->nyx", along_y, along_x, optimize=True)
        return 1 + amplitude * field / np.sqrt(waves)

    # ---- dots ------------------------------------------------------------------------------------------------
    def dot_sigma(self, scale: float = 1.0) -> np.ndarray:
        return np.full(self.n, scale * (0.7 + 0.9 * self.fine[0]))

    def dot_count(self, low: int, high: int) -> np.ndarray:
        """Dots per cell: the protein's dot_count parameter picks the mean in [low, high], Poisson around it."""
        mean = low + (high - low) * self.fine[1]
        return np.clip(self.rng.poisson(mean, self.n), 1, high + 4)

    def dots_in_body(
        self, counts: np.ndarray, sigma: np.ndarray, r_low=0.15, r_high=0.85, where="cytosol", weight_sd=0.3
    ) -> np.ndarray:
        """``counts`` (n,) dots at random places of the mother (or the bud, for where="bud")."""
        k = int(counts.max())
        rho = np.sqrt(self.rng.uniform(r_low**2, r_high**2, (self.n, k)))
        phi = self.rng.uniform(0, 2 * np.pi, (self.n, k))
        if where == "bud":
            u = self.bud_offset[:, None] + rho * self.bud_radius[:, None] * np.cos(phi)
            v = rho * self.bud_radius[:, None] * np.sin(phi)
        else:
            u, v = rho * self.a[:, None] * np.cos(phi), rho * self.b[:, None] * np.sin(phi)
        x, y = self.to_image(u, v)
        weight = np.exp(self.rng.normal(0, weight_sd, (self.n, k))) * (np.arange(k)[None] < counts[:, None])
        image = gaussian_dots(x, y, weight, sigma)
        if where == "cytosol":  # dots do not sit inside the vacuole or the nucleus
            image = image * (1 - 0.9 * self.vacuole) * (1 - 0.8 * self.nucleus)
        return image

    def dots_at_radius(self, counts, sigma, cu, cv, radius, spread=0.15) -> np.ndarray:
        """Dots on a circle of ``radius`` (n,) around (cu, cv) (n,): e.g. endosomes hugging the vacuole."""
        k = int(counts.max())
        phi = self.rng.uniform(0, 2 * np.pi, (self.n, k))
        rad = radius[:, None] * (1 + self.rng.normal(0, spread, (self.n, k)))
        x, y = self.to_image(cu[:, None] + rad * np.cos(phi), cv[:, None] + rad * np.sin(phi))
        weight = np.exp(self.rng.normal(0, 0.3, (self.n, k))) * (np.arange(k)[None] < counts[:, None])
        return gaussian_dots(x, y, weight, sigma)


# ---- one function per Huh localization: Cells -> (n, 64, 64), peak about 1 ---------------------------------


def nucleus(c: Cells):
    return c.nucleus * c.texture(0.15)


def nucleolus(c: Cells):
    # A crescent-shaped cap on one side of the nucleus.
    phi = c.rng.uniform(0, 2 * np.pi, c.n)
    cu = c.nucleus_u + 0.45 * c.nucleus_r * np.cos(phi)
    cv = c.nucleus_v + 0.45 * c.nucleus_r * np.sin(phi)
    cap = _soft_inside(c._radius(cu, cv, 0.65 * c.nucleus_r), _col(0.65 * c.nucleus_r))
    return cap * c.nucleus


def nuclear_periphery(c: Cells):
    # Nuclear envelope ring, beaded like nuclear pores.
    return _ring(c.r_nucleus, _col(c.nucleus_r), 0.7) * c.texture(0.5)


def er(c: Cells):
    # Cortical ER just under the plasma membrane plus the perinuclear ring; patchy.
    cortical = np.maximum(_ring(c.r_mother, _col(c.b), 0.8, inset=1.2), _ring(c.r_bud, _col(c.bud_radius), 0.8, 1.0))
    perinuclear = _ring(c.r_nucleus, _col(c.nucleus_r), 0.8)
    return np.clip(0.8 * cortical * c.texture(0.6) + perinuclear, 0, None)


def cell_periphery(c: Cells):
    # The plasma membrane: a smooth continuous rim of mother and bud.
    return np.maximum(_ring(c.r_mother, _col(c.b), 0.75), _ring(c.r_bud, _col(c.bud_radius), 0.75))


def vacuole(c: Cells):
    return c.vacuole * c.texture(0.1)


def vacuolar_membrane(c: Cells):
    return _ring(c.r_vacuole, _col(c.vacuole_r), 0.75)


def mitochondrion(c: Cells):
    # A tubular network: the zero lines of a smooth random field, in the cytosol, denser near the cortex.
    field = c.texture(1.0, scale=0.6, waves=7) - 1.0
    tubes = np.exp(-(field**2) / (2 * 0.12**2))
    return tubes * c.cytosol * (0.4 + 0.6 * np.clip(c.r_mother, 0, 1))


def cytoplasm(c: Cells):
    return c.cytosol * c.texture(0.12)


def bud_neck(c: Cells):
    # A band across the mother-bud junction (at the pole of unbudded cells: the incipient bud site).
    along = np.exp(-((c.u - _col(c.a - 0.5)) ** 2) / (2 * 0.9**2))
    across = np.exp(-(c.v**2) / (2 * _col(0.45 * np.where(c.budding, c.bud_radius, 0.4 * c.b)) ** 2))
    return along * across


def bud(c: Cells):
    # Concentrated in the bud, brightest at its tip; a cap at the pole of unbudded cells.
    tip = np.where(c.budding, c.bud_offset + 0.6 * c.bud_radius, c.a - 1.5)
    spot = np.exp(-(((c.u - _col(tip)) ** 2 + c.v**2) / (2 * _col(0.55 * np.maximum(c.bud_radius, 3.5)) ** 2)))
    fill = _soft_inside(c.r_bud, _col(c.bud_radius))
    return np.clip(spot + 0.35 * fill, 0, 1) * c.body


def spindle_pole(c: Cells):
    # One dot on the nuclear envelope, two (opposite) in a third of unbudded and all budded cells.
    phi = c.rng.uniform(0, 2 * np.pi, c.n)
    two = c.budding | (c.rng.random(c.n) < 0.33)
    phis = np.stack([phi, np.where(c.budding, 0.0, phi + np.pi)], axis=1)
    rad = c.nucleus_r[:, None] * np.array([[0.9, 0.9]])
    u = c.nucleus_u[:, None] + rad * np.cos(phis)
    v = c.nucleus_v[:, None] + rad * np.sin(phis)
    u[:, 0] = np.where(c.budding, c.nucleus_u - 0.8 * c.nucleus_r, u[:, 0])  # anaphase-like: one pole per side
    v[:, 0] = np.where(c.budding, c.nucleus_v, v[:, 0])
    x, y = c.to_image(u, v)
    weight = np.stack([np.ones(c.n), two.astype(float)], axis=1)
    return gaussian_dots(x, y, weight, np.full(c.n, 0.9))


def microtubule(c: Cells):
    # A spindle: a line through the nucleus, reaching into the bud in budded cells.
    start = c.nucleus_u - 0.8 * c.nucleus_r
    stop = np.where(c.budding, c.bud_offset, c.nucleus_u + 0.8 * c.nucleus_r)
    t = np.clip((c.u - _col(start)) / _col(stop - start), 0, 1)
    along_u = _col(start) + t * _col(stop - start)
    dist2 = (c.u - along_u) ** 2 + (c.v - _col(c.nucleus_v)) ** 2
    return np.exp(-dist2 / (2 * 0.7**2))


def actin(c: Cells):
    # Many small cortical patches, crowded into the bud (or at one pole of unbudded cells).
    counts = c.dot_count(8, 18)
    in_bud = c.dots_in_body(counts, c.dot_sigma(0.8), 0.3, 0.95, where="bud")
    in_mother = c.dots_in_body(np.maximum(counts // 3, 1), c.dot_sigma(0.8), 0.75, 0.95, where="mother")
    return np.where(_col(c.budding), in_bud + 0.5 * in_mother, in_mother)


def golgi(c: Cells):
    return c.dots_in_body(c.dot_count(3, 9), c.dot_sigma(1.1), 0.2, 0.85)


def peroxisome(c: Cells):
    return c.dots_in_body(c.dot_count(2, 7), c.dot_sigma(0.85), 0.2, 0.85, weight_sd=0.15)


def endosome(c: Cells):
    return c.dots_at_radius(c.dot_count(2, 5), c.dot_sigma(1.0), c.vacuole_u, c.vacuole_v, c.vacuole_r + 1.5)


def lipid_particle(c: Cells):
    return c.dots_in_body(c.dot_count(2, 5), c.dot_sigma(1.2), 0.55, 0.9, weight_sd=0.1)


def punctate(c: Cells):
    return c.dots_in_body(c.dot_count(4, 12), c.dot_sigma(1.0), 0.1, 0.9, weight_sd=0.5)


#: Huh flag -> pattern. Golgi subtypes share the Golgi drawing (they differ in the fine parameters only).
PATTERNS = {
    "nucleus": nucleus,
    "nucleolus": nucleolus,
    "nuclear periphery": nuclear_periphery,
    "ER": er,
    "cell periphery": cell_periphery,
    "vacuole": vacuole,
    "vacuolar membrane": vacuolar_membrane,
    "mitochondrion": mitochondrion,
    "cytoplasm": cytoplasm,
    "bud neck": bud_neck,
    "bud": bud,
    "spindle pole": spindle_pole,
    "microtubule": microtubule,
    "actin": actin,
    "Golgi": golgi,
    "early Golgi": golgi,
    "late Golgi": golgi,
    "ER to Golgi": golgi,
    "peroxisome": peroxisome,
    "endosome": endosome,
    "lipid particle": lipid_particle,
    "punctate composite": punctate,
}


def brightness(abundance: float) -> float:
    """Photons at the pattern's peak from molecules per cell: 60 at <= 100, 400 at >= 1e5, log-linear."""
    if not np.isfinite(abundance):
        abundance = 2000.0  # about the table's median, for proteins seen but not quantified
    return 60.0 + 340.0 * float(np.clip((np.log10(max(abundance, 1.0)) - 2.0) / 3.0, 0.0, 1.0))


def fine_structure(c: Cells) -> np.ndarray:
    """A multiplicative modulation every protein's pattern gets, set by its fine parameters alone:
    granules (count from dot_count, size from dot_size, contrast from intensity_ratio) and a texture at the
    protein's texture frequency. Proteins that share complexes / pathways share these parameters, so
    the finer tiers are visible beyond the compartment. (n, 64, 64), around 1."""
    counts = np.round(2 + 10 * c.fine[1] + c.rng.normal(0, 1.0, c.n)).clip(1, 14).astype(int)
    granules = c.dots_in_body(counts, c.dot_sigma(1.2), 0.0, 0.95, where="mother", weight_sd=0.2)
    contrast = 0.3 + 1.2 * c.fine[3]
    return (1 + contrast * granules) * c.texture(0.3, waves=6)


def render(rng: np.random.Generator, n: int, flags: tuple[str, ...], fine: np.ndarray, abundance: float) -> np.ndarray:
    """n cells of one protein: float32 (n, 2, 64, 64) camera counts (GFP, RFP)."""
    cells = Cells(rng, n, fine)
    # The first localization (in HUH_FLAGS order) is the primary one; the others are weaker by the
    # protein's intensity_ratio parameter.
    secondary = 0.25 + 0.6 * fine[3]
    gfp = np.zeros((n, SIZE, SIZE), dtype=np.float32)
    for k, flag in enumerate(flags):
        pattern = PATTERNS[flag](cells)
        peak = pattern.reshape(n, -1).max(axis=1)
        gfp += (1.0 if k == 0 else secondary) * pattern / _col(np.maximum(peak, 1e-6))
    gfp *= fine_structure(cells)
    gfp += 0.04 * cells.body  # cell autofluorescence
    per_cell = np.exp(rng.normal(0, 0.25, n))  # cell-to-cell expression variability
    gfp_photons = _col(brightness(abundance) * per_cell) * gfp + BACKGROUND_PHOTONS
    rfp = cells.body * (1 - 0.65 * cells.vacuole) * (1 - 0.25 * cells.nucleus) * cells.texture(0.08)
    rfp_photons = _col(RFP_PHOTONS * np.exp(rng.normal(0, 0.2, n))) * rfp + BACKGROUND_PHOTONS
    photons = np.stack([blur(gfp_photons, PSF_SIGMA_GFP), blur(rfp_photons, PSF_SIGMA_RFP)], axis=1)
    photons = np.clip(photons, 0, None)
    # Shot noise (Poisson, variance = photons) and camera read noise, drawn together as one Gaussian:
    # at these photon counts the Gaussian approximation of the Poisson is close and 5x faster to draw.
    noise = rng.standard_normal(photons.shape, dtype=np.float32) * np.sqrt(photons + READ_NOISE**2)
    return (CAMERA_OFFSET + photons + noise).astype(np.float32)
