"""SummaC-Conv's published constants, in a module with no dependencies (the golden-file script imports it
from the reference's own environment)."""

from __future__ import annotations

from typing import Any

__all__ = ["CONV_VITC_SENT_PERC_E", "PERCENTILE_EDGES"]

PERCENTILE_EDGES: tuple[float, ...] = (
    0.0, 0.01, 0.02, 0.03, 0.04, 0.07, 0.13, 0.37, 0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.955, 0.96, 0.965, 0.97,
    0.975, 0.98, 0.985, 0.99, 0.995, 1.0,
)
"""SummaC-Conv's ``bins="percentile"`` edges (23 bins)."""

CONV_VITC_SENT_PERC_E: dict[str, list[Any]] = {
    "mlp.weight": [[
        -0.0045237439, -0.014797469, -0.022358589, 0.021259114, -0.010985052, -0.079573765, -0.055855729,
        -0.084195957, -0.2454244, -0.51755261, -0.38475761, -0.4863939, -0.62505955, -0.47751495, -0.77238226,
        -0.92586374, -1.0009462, -1.0922598, -1.1167588, -1.1111186, -1.5992856, -2.0340393, -2.3670299,
    ]],
    "mlp.bias": [0.63175881],
    "layer_final.weight": [[0.049782082, 0.56979799, 0.5464741], [-0.43835601, -0.31846389, 0.30557242]],
    "layer_final.bias": [0.11774739, -0.25343868],
}
"""The published SummaC-Conv weights ``summac_conv_vitc_sent_perc_e.bin`` (34 parameters; sha256 cd880581…c6fe;
tingofurro/summac, Apache-2.0, Laban et al. 2022), trained on the vitc backbone, sentence granularity,
percentile bins, entailment histogram only. Values as float32 printed to 8 significant digits."""
