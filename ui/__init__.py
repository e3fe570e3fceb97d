"""Streamlit-side pieces shared by the pages: strings, context, cached data, maps, charts."""
