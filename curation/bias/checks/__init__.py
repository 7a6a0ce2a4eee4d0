"""The built-in bias checks, one module each; `curation.bias.builtin` registers them."""
