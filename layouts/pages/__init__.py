"""The screens as Dash pages: each module registers one page (Dash finds them; the app imports none)."""
