"""``python -m repbench ...``: the ``repbench`` command, also as ``torchrun -m repbench run ...``
(docs/distributed.md)."""

from repbench.cli.main import main

if __name__ == "__main__":
    main()
