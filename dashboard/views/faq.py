"""FAQ harvest: recurring questions grouped into candidates a support lead can accept."""

import streamlit as st
from sqlmodel import col, select

from dashboard.state import session
from kikimimi.models import FaqCluster

st.title("FAQ harvest")
with session() as s:
    clusters = list(s.exec(select(FaqCluster).order_by(col(FaqCluster.size).desc())))
if not clusters:
    st.info("No FAQ candidates yet: they form once several people ask the same thing (`kikimimi run --once`).")
for cluster in clusters:
    with st.container(border=True):
        st.markdown(f"**{cluster.label}** · {cluster.size} questions · {cluster.status}")
        st.write(cluster.representative_question)
