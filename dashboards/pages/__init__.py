"""Board pages: each module calls dash.register_page and defines layout(**kwargs)."""
