"""The web layer: thin Flask blueprints over the store and the renderer."""
