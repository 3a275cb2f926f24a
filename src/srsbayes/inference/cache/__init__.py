"""A disk cache for nutpie's compiled PyMC models, shared by every process of a user.

``nutpie.compile_pymc_model`` (numba backend) compiles PyTensor's logp-and-gradient and
expand functions, which PyTensor caches on disk itself, and then wraps each in a
``numba.cfunc`` that nutpie rebuilds in every process (about 7 s and 2 s). This package
does what ``compile_pymc_model`` does with nutpie's own defaults, but generates the two
wrappers as source text with everything they depend on spelled out (:mod:`.wrappers`) and
compiles them with numba's on-disk cache into an entry folder named by a hash
(:mod:`.keys`) of

- the model's graph (:func:`..graph_key.model_graph_key`: every node, type, constant and
  shared value, and the roles of the model's variables);
- the versions of Python, numba, llvmlite, NumPy, PyTensor, PyMC, nutpie and srsbayes,
  and the source of this package and of :mod:`..graph_key`, so that an upgrade of any of
  them starts a new entry instead of reusing a stale one (numba's own cache does not
  notice a changed callee).

Beside numba's files the entry keeps ``layout.json`` (:class:`.store.EntryMeta`: sizes,
variable names and shapes, the shared-data layout, the shared values) and, where it
reproduces PyMC's bit for bit, a replay of the initial-point function (:mod:`.replay`).
A fit looks its model up by a *structure key* first (family, number of studies, structure,
placeholder priors, the families' and priors' source, the versions): a hit rebuilds
nutpie's ``CompiledPyMCModel`` from the entry's files with numba, nutpie and NumPy alone,
importing neither PyMC nor PyTensor, and links the wrappers' object code without
initialising numba's CPU target (:mod:`.wrappers`, :mod:`.entry`, :mod:`.compile`).

Where it lives: ``$SRSBAYES_CACHE_DIR``, else ``$XDG_CACHE_HOME/srsbayes``, else
``~/.cache/srsbayes``; ``SRSBAYES_CACHE_DIR=off`` turns the cache off. An entry is written
under a file lock (two processes compiling the same model: the second waits and loads),
numba writes its files atomically, and a manifest of SHA-256 sums, written last, marks an
entry complete; an entry that fails its manifest is rebuilt (:mod:`.store`). Any failure of
the cached path logs a warning and falls back to ``nutpie.compile_pymc_model``: the cache
can make a fit slower, never wrong or failed.

This relies on nutpie internals (``nutpie.compile_pymc``), checked by
``tests/integration/test_compile_cache.py`` and limited to :data:`.keys.NUTPIE_SUPPORTED`;
outside that range the ordinary compile is used.
"""
