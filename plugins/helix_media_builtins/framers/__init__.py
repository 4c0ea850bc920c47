"""Built-in framers (``register_framers``): helix (``helix_framer``, its addresses in
``address_code``), fountain and hidden-address (``hidden_address_plain``), the last two on
``lt_code`` and ``strand_tools``."""
