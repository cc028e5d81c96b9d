"""Chart builders: pure functions, frame in, Plotly figure out (no Streamlit, no database).

Every builder takes ``presentation: bool`` and finishes with :func:`theme.style`, so fonts,
palette and margins are the same on every page and legible on a projector in presentation mode.
"""
