"""Pure component builders: data in, Dash components or figures out (no queries here)."""
