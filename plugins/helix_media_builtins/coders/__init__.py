"""Built-in constraint coders (``register_coders``): enumerative (its numba kernels in
``enumerative_kernels``), goldman and paircode (both on ``radix``), naive, tk-scone (on
``fsm``, ``enum_suffix`` and ``gf2``) and verbatim."""
