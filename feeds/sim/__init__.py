"""The city simulator's parts, one module each; ``feeds.simulator`` runs them as the default feed."""
