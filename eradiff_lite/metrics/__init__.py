"""Measures: the held-out benchmark and the metrics (coherence, realism, elimination), the results file.

- `benchmark`: ``heldout-v1``, a fixed list of procedural scenes no model trained on;
- `coherence`: PSNR and SSIM inside the mask against the true background;
- `perceptual`: LPIPS where it loads, else PresenceNet-PD (LPIPS's formula on the course's features);
- `frechet`: FID and local FID with an injectable feature extractor;
- `presence`: the object-presence classifier behind the elimination score; `crops`: the crops it looks at;
- `judge`: the colour judge of elimination; `texture`: the texture measure; `fill`: the reference fills;
- `clip_score`: Attentive Eraser's CLIP score (Colab); `classical`: biharmonic inpainting;
- `scoring`: scoring one set of erased images; `paired`: paired statistics; `results`: the results file.

Running the ablation over them, the conclusion drawn from its table and the presence classifier's training are
experiments (`eradiff_lite.experiments`); the ``evaluate`` command is `eradiff_lite.cli.evaluate`.
"""

from .benchmark import BENCHMARK_VERSION, Benchmark, load_benchmark
from .classical import inpaint_classical
from .coherence import masked_psnr, masked_ssim
from .crops import box_crops, crop_window
from .frechet import PresenceFeatures, fid_score, frechet_distance, make_fid
from .perceptual import PresencePerceptualDistance, perceptual_distance
from .presence import PresenceNet, load_presence_net, save_presence_net
from .results import PAPER_TABLE3, check_results, format_table, read_results, write_results
from .scoring import MetricKit, load_metric_kit, score_outputs

__all__ = [
    "BENCHMARK_VERSION", "Benchmark", "MetricKit", "PAPER_TABLE3", "PresenceFeatures", "PresenceNet",
    "PresencePerceptualDistance", "box_crops", "check_results", "crop_window", "fid_score", "format_table",
    "frechet_distance", "inpaint_classical", "load_benchmark", "load_metric_kit", "load_presence_net", "make_fid",
    "masked_psnr", "masked_ssim", "perceptual_distance", "read_results", "save_presence_net", "score_outputs",
    "write_results",
]
