"""The package's imports flow one way (library < experiments < course < CLI), and its public names stay put.

The layer table is `tools/layers.py` (written once; docs/layers.md explains it, `tools/import_graph.py` draws it).
"""

import ast
import importlib
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import layers  # noqa: E402

# The names and commands docs/design.md promises (its "Names and files" tables), and the packages' re-exports that
# notebooks and users import. Each must resolve; the test below adds every dotted name docs/design.md mentions.
PUBLIC_NAMES = [
    "eradiff_lite.LiteUNet",
    "eradiff_lite.schedule.mixup_lambdas", "eradiff_lite.schedule.dynamic_image", "eradiff_lite.schedule.noisy_mix",
    "eradiff_lite.cro.ddim_jump", "eradiff_lite.cro.cro_loss", "eradiff_lite.targets.to_epsilon",
    "eradiff_lite.sra.sra_allowed", "eradiff_lite.sra.self_rectifying_attention", "eradiff_lite.sra.mask_at",
    "eradiff_lite.sra.SelfRectifyingAttnProcessor",
    "eradiff_lite.models.build_lite_unet", "eradiff_lite.models.masked_image", "eradiff_lite.models.unet_input",
    "eradiff_lite.pipeline.EraseDiffusionPipeline", "eradiff_lite.pipeline.EraseOutput",
    "eradiff_lite.pipeline.export_pipeline", "eradiff_lite.pipeline.read_card",
    "eradiff_lite.pipeline.shipped.load_variant", "eradiff_lite.pipeline.shipped.resolve_variant",
    "eradiff_lite.pipeline.shipped.shipped_variants", "eradiff_lite.pipeline.shipped.find_variants",
    "eradiff_lite.metrics.load_presence_net", "eradiff_lite.metrics.box_crops", "eradiff_lite.metrics.crop_window",
    "eradiff_lite.metrics.load_benchmark", "eradiff_lite.metrics.score_outputs", "eradiff_lite.metrics.format_table",
    "eradiff_lite.train.train", "eradiff_lite.train.make_config", "eradiff_lite.train.TrainConfig",
    "eradiff_lite.train.VARIANTS", "eradiff_lite.train.TRAINED_VARIANTS", "eradiff_lite.train.get_variant",
    "eradiff_lite.sd.load_sd_inpaint", "eradiff_lite.sd.build_tiny_sd_inpaint", "eradiff_lite.sd.SDEraser",
    "eradiff_lite.data.make_scene", "eradiff_lite.data.stamp", "eradiff_lite.data.paste",
    "eradiff_lite.exercises.check",
    "eradiff_lite.losses.Loss", "eradiff_lite.losses.register_loss", "eradiff_lite.losses.loss_for",
    "eradiff_lite.variants.register_variant", "eradiff_lite.metrics.registry.register_metric",
    "eradiff_lite.metrics.registry.Metric", "eradiff_lite.metrics.registry.PerScene",
    "eradiff_lite.experiments.capstone.run_capstone",
    "eradiff_lite.experiments.evaluate.evaluate_profile", "eradiff_lite.experiments.evaluate.erase_benchmark",
    "eradiff_lite.experiments.findings.conclusion_markdown", "eradiff_lite.experiments.ablation.run_ablation",
    "eradiff_lite.experiments.recipe_study.markdown_table", "eradiff_lite.experiments.sra_study.sra_effect",
    "eradiff_lite.experiments.presence_train.train_presence_net",
    "eradiff_lite.experiments.bench.data.benchmark_scenes",
    "eradiff_lite.cli.main",
]
COMMANDS = ["profile", "course", "build-assets", "train", "erase", "evaluate", "study", "sra-study", "ship",
            "train-presence", "bench-data", "bench-sra", "bench-train", "bench-cro", "bench-erase", "capstone"]


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(dotted)


def _graph(root=layers.ROOT):
    return layers.import_graph(layers.read_sources(root))


# ------------------------------------------------------------------------------------------------------ layers
def test_every_module_has_a_layer_and_no_import_runs_back_up():
    graph = _graph()
    assert len(graph) > 90 and sum(map(len, graph.values())) > 250  # the parse sees the whole package
    for module in graph:
        layers.rank(module)  # KeyError names a module the table does not place
    assert layers.upward(graph) == [], "an import runs from a lower layer to a higher one (tools/layers.py)"


def test_no_module_takes_a_private_name_from_another():
    assert layers.private_imports(_graph()) == []


def test_the_groups_are_ordered_library_experiments_course_cli():
    groups = [group for _, group, _ in layers.LAYERS]
    assert sorted(set(groups), key=groups.index) == ["library", "experiments", "course", "cli"]
    assert groups == sorted(groups, key=["library", "experiments", "course", "cli"].index)
    assert layers.layer_name("eradiff_lite.widgets.mask_editing") == "widget parts"
    assert layers.layer_name("eradiff_lite.widgets.mask_editor") == "course"
    assert layers.layer_name("eradiff_lite") == "models"  # the root alone; its lazy LiteUNet
    with pytest.raises(KeyError, match="no layer"):
        layers.rank("eradiff_lite.somewhere_new")


PLANTED = '''"""A library module that reaches up (planted by the test)."""
from typing import TYPE_CHECKING

from ..profiles import get_profile  # down: fine
from .. import viz  # up: the course

if TYPE_CHECKING:
    from eradiff_lite.cli import main  # up: the CLI


def run():
    from ..experiments.evaluate import erase_benchmark  # up, inside a function
    import eradiff_lite.eraser as eraser  # up, absolute
    from ..data.compose import _private  # a private name of another module
    return erase_benchmark, eraser, get_profile, main, viz, _private
'''


def test_a_planted_upward_import_is_caught_wherever_it_sits(tmp_path):
    shutil.copytree(ROOT / "eradiff_lite", tmp_path / "eradiff_lite")
    (tmp_path / "eradiff_lite" / "metrics" / "planted.py").write_text(PLANTED)
    graph = _graph(tmp_path)
    assert sorted(b for a, b in layers.upward(graph)) == [
        "eradiff_lite.cli", "eradiff_lite.eraser", "eradiff_lite.experiments.evaluate", "eradiff_lite.viz"]
    assert {a for a, b in layers.upward(graph)} == {"eradiff_lite.metrics.planted"}
    assert layers.private_imports(graph) == [("eradiff_lite.metrics.planted", "eradiff_lite.data.compose", "_private")]


def test_a_planted_arrow_between_library_layers_is_caught_too():
    sources = {"eradiff_lite.data.io": ("from ..pipeline import shipped\n", False),
               "eradiff_lite.pipeline": ("", True), "eradiff_lite.pipeline.shipped": ("", False),
               "eradiff_lite.pipeline.fullsize": ("from ..metrics.crops import crop_window\n", False),
               "eradiff_lite.metrics.crops": ("", False)}
    graph = layers.import_graph(sources)
    assert graph["eradiff_lite.data.io"] == {"eradiff_lite.pipeline.shipped": []}  # `from X import module`
    assert layers.upward(graph) == [("eradiff_lite.data.io", "eradiff_lite.pipeline.shipped")]


# -------------------------------------------------------------------------------------------------- public names
@pytest.mark.parametrize("dotted", PUBLIC_NAMES)
def test_a_public_name_resolves(dotted):
    assert _resolve(dotted) is not None


MAX_MODULE_LINES = 250  # every module readable in one sitting


def _reexports(path: Path) -> list[str]:
    """Names a module lists in ``__all__`` that it only imports (from anywhere): a forwarding shim."""
    tree = ast.parse(path.read_text())
    imported = {(a.asname or a.name).split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names}
    listed = [elt.value for node in tree.body if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
              for elt in node.value.elts]
    return sorted(set(listed) & imported)


def test_only_a_package_init_forwards_names_from_other_modules():
    """A module split to stay short does not keep forwarding what moved out of it (``eraser`` once re-exported the
    frame's ``CELL``/``TITLE``, ``capstone`` the rules' ``BUDGETS``): its users import from the new home."""
    modules = [p for p in sorted((ROOT / layers.PACKAGE).rglob("*.py")) if p.name != "__init__.py"]
    assert len(modules) > 50
    assert {str(p.relative_to(ROOT)): names for p in modules if (names := _reexports(p))} == {}


def test_the_shim_check_catches_a_planted_forward(tmp_path):
    planted = tmp_path / "split.py"
    planted.write_text('from .frame import CELL, draw\n\n__all__ = ["CELL", "own"]\n\n\ndef own():\n    return draw\n')
    assert _reexports(planted) == ["CELL"]


def test_every_module_of_the_package_is_at_most_250_lines():
    lengths = {str(p.relative_to(ROOT)): len(p.read_text().splitlines())
               for p in sorted((ROOT / layers.PACKAGE).rglob("*.py"))}
    assert len(lengths) > 50
    assert {p: n for p, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_layers_md_lists_every_layer_of_the_table():
    text = (ROOT / "docs" / "layers.md").read_text()
    assert [name for name, _, _ in layers.LAYERS if f"| {name} |" not in text] == []


def test_every_name_the_docs_mention_resolves_and_every_path_exists():
    text = (ROOT / "docs" / "design.md").read_text() + (ROOT / "docs" / "layers.md").read_text()
    names = sorted(set(re.findall(r"\beradiff_lite(?:\.[A-Za-z_]\w*)+", text)))
    assert "eradiff_lite.metrics.load_presence_net" in names and len(names) > 10
    for dotted in names:
        _resolve(dotted)
    paths = sorted(set(re.findall(r"\beradiff_lite/[\w/]+(?:\.py|/)", text)))
    assert [p for p in paths if not (ROOT / p).exists()] == []


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_answers_help(command, capsys):
    from eradiff_lite.cli import main

    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and "usage:" in capsys.readouterr().out


def test_the_removed_shims_stay_removed():
    for gone in ("eradiff_lite.models.sd_inpaint", "eradiff_lite.train.study", "eradiff_lite.train.ablation",
                 "eradiff_lite.sra.study", "eradiff_lite.metrics.evaluate", "eradiff_lite.metrics.findings",
                 "eradiff_lite.pipeline.cli", "eradiff_lite.train.cli", "eradiff_lite.metrics.cli"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(gone)


def test_the_after_numbers_in_docs_layers_md_are_what_the_tools_count():
    import import_graph

    counted = import_graph.summary(layers.import_graph(layers.read_sources()))
    text = (ROOT / "docs" / "layers.md").read_text()
    for label, key in (("modules", "modules"), ("import arrows between modules", "arrows"),
                       ("arrows between packages (top-level `data`, `metrics`, ...)", "package_arrows")):
        row = re.search(rf"^\| {re.escape(label)} \| [^|]+ \| (\d+) \|$", text, re.M)
        assert row and int(row.group(1)) == counted[key], f"docs/layers.md '{label}': {row and row.group(1)} " \
                                                          f"written, {counted[key]} counted (tools/import_graph.py)"
    assert not counted["upward"]


def test_docs_import_graph_md_is_what_the_tool_draws_of_the_working_tree():
    """The drawn graph is regenerated with the code (``python tools/import_graph.py --before 246a241 --out
    docs/import_graph.md``): its 'After' section equals the tool's drawing of this tree, line for line."""
    import import_graph

    drawn = "\n".join(import_graph.section("After (the working tree)", layers.import_graph(layers.read_sources())))
    text = (ROOT / "docs" / "import_graph.md").read_text()
    assert "## After (the working tree)" in text, "docs/import_graph.md has no 'After' section: regenerate it"
    written = text[text.index("## After (the working tree)"):]
    assert written.rstrip() == drawn.rstrip(), "docs/import_graph.md is stale: run python tools/import_graph.py " \
                                               "--before 246a241 --out docs/import_graph.md"

