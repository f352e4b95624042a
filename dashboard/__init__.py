"""The Streamlit dashboard: thin pages over tested functions in dashboard.queries and responder/."""
