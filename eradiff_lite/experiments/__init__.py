"""Experiments: runs that use the library and write results, above it and below the course and the CLI.

Nothing in the library imports this package (``tests/test_layers.py``); the notebooks, the CLI and the scripts in
the repository's ``experiments/`` folder do.

- `evaluate`: the ablation on the held-out benchmark (every variant and seed erased and scored, one row each);
  `findings`: the conclusion computed from its table;
- `ablation`: training every variant of the ablation, exporting and shipping the runs (``train --variant all``,
  ``ship``);
- `recipe_study`: short equal-budget runs of the baseline recipe, scored on held-out scenes (``study``);
- `sra_study`: SRA on vs off in each setting, paired on the same scenes (``sra-study``);
- `presence_train`: training the presence classifier the measures load (``train-presence``);
- `bench`: timing only, the ``bench-*`` commands;
- `capstone`: the capstone's one command (a learner's registered variant fine-tuned under a fixed budget, scored
  against ``cro_sra`` with paired statistics), `capstone_table`: the class's table (``capstone``).
"""
