"""The hook specification of repbench plugins (entry-point group ``repbench``).

A plugin module implements::

    from repbench import hookimpl

    @hookimpl
    def register_embedders(register):
        register(MyEmbedder())

where ``MyEmbedder`` satisfies :class:`repbench.embedders.Embedder`.
"""

import pluggy

hookspec = pluggy.HookspecMarker("repbench")
hookimpl = pluggy.HookimplMarker("repbench")


@hookspec
def register_embedders(register):
    """Call ``register(embedder)`` once for each embedder this plugin provides."""
