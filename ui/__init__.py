"""The Streamlit chat: `ui/app.py` is the page, the other modules its parts."""
