"""Rendering: every card, README block and table the package writes, from data the other layers measured.

It sits above `data` (it reads the schema, the statistics threshold and the 2020 figures) and below
everything that writes a file a person reads: `build` (the dataset card), `training` (model cards),
`analysis` (benchmark, report and fidelity blocks) and `hub` (published cards, the leaderboard block).

- `markdown`: tables, safe cells, the `<!-- NAME:start/end -->` blocks;
- `texts`: license, citations, description, the templates' folder (`templates/`);
- `dataset_card`, `model_card`, `space_cards`: the cards, from `templates/*.md`;
- `statistics`, `tables`, `leaderboard`: the blocks (statistics and report, benchmark, fidelity, results,
  leaderboard).
"""

from .dataset_card import dataset_card_data, render_dataset_card
from .leaderboard import leaderboard_markdown
from .markdown import check_block, markdown_table, plain_cell, read_block, replace_block, with_block
from .model_card import model_eval_results, render_model_card
from .space_cards import (
    SPACE_PYTHON,
    SPACE_SDK_VERSION,
    render_explorer_card,
    render_metric_card,
    space_card_data,
)
from .statistics import (
    component_std_table,
    printed_form,
    report_markdown,
    statistics_comparison,
    statistics_markdown,
    statistics_summary,
    what_differs,
)
from .tables import benchmark_markdown, fidelity_markdown, results_markdown, results_rows, seeds_markdown
from .texts import CITATION, DATASET_CITATION, DESCRIPTION, LICENSE, MNIST_CITATION, PORT_CITATION, TEMPLATES

__all__ = [
    "CITATION",
    "DATASET_CITATION",
    "DESCRIPTION",
    "LICENSE",
    "MNIST_CITATION",
    "PORT_CITATION",
    "SPACE_PYTHON",
    "SPACE_SDK_VERSION",
    "TEMPLATES",
    "benchmark_markdown",
    "check_block",
    "component_std_table",
    "dataset_card_data",
    "fidelity_markdown",
    "seeds_markdown",
    "leaderboard_markdown",
    "markdown_table",
    "model_eval_results",
    "plain_cell",
    "printed_form",
    "read_block",
    "render_dataset_card",
    "render_explorer_card",
    "render_metric_card",
    "render_model_card",
    "replace_block",
    "report_markdown",
    "results_markdown",
    "results_rows",
    "space_card_data",
    "statistics_comparison",
    "statistics_markdown",
    "statistics_summary",
    "what_differs",
    "with_block",
]
